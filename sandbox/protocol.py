"""The Bot API wire format: how requests arrive and how answers and errors look."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web

from core.safejson import JsonError, loads, loads_object

Json = dict[str, Any]

MAX_FORM = 1024 * 1024  # a text method's body; Telegram's own limit is far below this
MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's limit for files a bot uploads


class BotApiError(Exception):
    """An error answer exactly as Telegram gives it: HTTP status = `error_code`, and
    `parameters` (Telegram's ResponseParameters: `retry_after`, `migrate_to_chat_id`)."""

    def __init__(
        self,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        parameters: Json | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters: Json = dict(parameters or {})
        if retry_after is not None:
            self.parameters["retry_after"] = retry_after

    @property
    def retry_after(self) -> int | None:
        value = self.parameters.get("retry_after")
        return value if isinstance(value, int) else None

    def to_json(self) -> Json:
        body: Json = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def bad_request(reason: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> BotApiError:
    return BotApiError(403, f"Forbidden: {reason}")


def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def error(exc: BotApiError) -> web.Response:
    return web.json_response(exc.to_json(), status=exc.code)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Params:
    """A method's parameters however they arrived (query, form, multipart or JSON).

    Form values are strings; nested objects (reply_markup, entities, ...) arrive as JSON
    strings, as aiogram sends them; a JSON body gives them as objects already.
    """

    values: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(self, name: str, default: str = "") -> str:
        value = self.values.get(name)
        return default if value is None else str(value)

    def integer(self, name: str, missing: str | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            if missing:
                raise bad_request(missing)
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def obj(self, name: str, what: str = "") -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        try:
            return loads(value)
        except JsonError:
            raise bad_request(f"can't parse {what or name} JSON object") from None

    def chat_id(self) -> int:
        value = self.values.get("chat_id")
        if value in (None, ""):
            raise bad_request("chat_id is empty")
        try:
            return int(value)
        except (TypeError, ValueError):  # @channelusername: the sandbox has no channels
            raise bad_request("chat not found") from None


async def read_params(request: web.Request) -> Params:
    """Parse a Bot API request without aiohttp's `client_max_size` (the host app's limit is
    sized for web forms; bot uploads may be up to 50 MB)."""
    params = Params(values=dict(request.query))
    ctype = request.content_type
    if request.method != "POST" or not request.can_read_body:
        return params
    if ctype == "multipart/form-data":
        await _read_multipart(request, params)
        return params
    body = await _read_limited(request, MAX_FORM)
    if ctype == "application/json":
        try:
            params.values.update(loads_object(body or b"{}"))
        except JsonError:
            raise bad_request("can't parse JSON request body: an object expected") from None
    else:
        text = body.decode("utf-8", errors="replace")
        params.values.update(parse_qsl(text, keep_blank_values=True))
    return params


async def _read_limited(request: web.Request, limit: int) -> bytes:
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise BotApiError(413, "Request Entity Too Large")
    return body


async def _read_multipart(request: web.Request, params: Params) -> None:
    reader = await request.multipart()
    total = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):  # nested multipart: no method uses it
            continue
        chunks: list[bytes] = []
        while chunk := await part.read_chunk():
            total += len(chunk)
            if total > MAX_UPLOAD:
                raise BotApiError(413, "Request Entity Too Large")
            chunks.append(chunk)
        data = b"".join(chunks)
        if part.name is None:
            continue
        if part.filename is not None:
            ctype = part.headers.get("Content-Type", "application/octet-stream")
            params.files[part.name] = Upload(part.filename, ctype, data)
        else:
            params.values[part.name] = data.decode("utf-8", errors="replace")
