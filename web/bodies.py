"""Reading request bodies strictly: UTF-8 or a clear 400, never a half-decoded value."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict

from core.contact import UTM_KEYS, RawContact
from core.safejson import JsonError, loads_object
from locales import N_

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_FIELDS = 50


class UnreadableBody(web.HTTPBadRequest):
    """Bytes that are not UTF-8 text (or not the format they claim to be)."""

    explanation = N_(
        "We could not read what was sent: it is not valid UTF-8 form data. "
        "Please go back, check what you typed and try again."
    )


class UnsupportedBody(web.HTTPUnsupportedMediaType):
    explanation = N_("Send the data as a form (urlencoded or multipart) or as JSON.")


async def read_form(request: web.Request) -> MultiDict[str]:
    """A form body as text fields. Raises 400 for non-UTF-8, 413 when too large."""
    if request.content_type == "multipart/form-data":
        return await _read_multipart(request)
    if request.content_type not in ("", FORM_TYPES[0]):
        raise UnsupportedBody()
    body = await request.read()  # raises 413 beyond the app's client_max_size
    try:
        # errors="strict": `%FF` must be refused, not quietly turned into U+FFFD.
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise UnreadableBody() from None
    return MultiDict(pairs)


async def _read_multipart(request: web.Request) -> MultiDict[str]:
    try:
        posted = await request.post()
    except (UnicodeDecodeError, ValueError):
        raise UnreadableBody() from None
    out: MultiDict[str] = MultiDict()
    for key, value in posted.items():
        if not isinstance(value, str):  # a file or raw bytes where text belongs
            raise UnreadableBody()
        out.add(key, value)
    return out


async def read_json_object(request: web.Request) -> dict[str, object]:
    """A JSON object body. Raises 400 when it is not UTF-8 JSON, not an object, or nested
    too deep (`core.safejson`); 413 when too large."""
    body = await request.read()
    try:
        return loads_object(body, max_keys=MAX_FIELDS)
    except JsonError:
        raise UnreadableBody() from None


def text_fields(data: Mapping[str, object]) -> dict[str, str]:
    """JSON values as form-like strings: numbers and booleans allowed, nesting dropped."""
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool):
            out[key] = "1" if value else ""
        elif isinstance(value, str | int | float):
            out[key] = str(value)
    return out


def is_checked(value: str | None) -> bool:
    """A checkbox or boolean-ish field: `on`, `1`, `true`, `yes` (any case)."""
    return (value or "").strip().lower() in ("on", "1", "true", "yes", "y")


def raw_contact(fields: Mapping[str, str], *, source: str, consent: bool) -> RawContact:
    """The fields shared by the form and the webhook, as Core's `RawContact`."""
    return RawContact(
        source=source,
        name=fields.get("name", ""),
        phone=fields.get("phone", ""),
        email=fields.get("email", ""),
        consent=consent,
        ref=fields.get("ref", ""),
        tz=fields.get("tz", ""),
        utm={key: fields[key] for key in UTM_KEYS if fields.get(key)},
    )
