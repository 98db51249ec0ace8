"""The durable outbox: the only way anything reaches Telegram.

Producers (consumers of events, the scenario engine, bot screens that notify others) call
`enqueue` inside their own database transaction, so a message exists exactly when the state
change that caused it does. The sender (`delivery/sender.py`) drains the table within
Telegram's limits. The idempotency `key` makes enqueueing safe to repeat. Nothing here
knows aiogram: a payload is the Bot API method's name and its parameters as plain data.

Every payload is built here, and here it is made to fit Telegram's size limits
(`core/telegram_limits.py`): a text or caption too long for Telegram is cut with "…" (a
refused row could never be sent, and a screen built from it never opened again), a label
is shortened, and callback data over 64 bytes is a programming error raised at once.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tortoise.backends.base.client import BaseDBAsyncClient

from core.bulk import insert_rows
from core.clock import Clock
from core.telegram_limits import (
    BUTTON_TEXT_LIMIT,
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    TEXT_LIMIT,
    fit_html,
    fit_plain,
)
from models import OutboxMessage, Priority


@dataclass(frozen=True)
class Button:
    """An inline button: `url` opens a link, `callback` comes back as a callback_query,
    `web_app` opens its URL as a Telegram Mini App (private chats only, HTTPS)."""

    text: str
    url: str | None = None
    callback: str | None = None
    web_app: str | None = None

    def __post_init__(self) -> None:
        # Telegram refuses the whole message over one bad button: fail where it is built.
        if self.callback is not None and not 1 <= len(self.callback.encode()) <= (
            CALLBACK_DATA_LIMIT
        ):
            raise ValueError(f"callback data must be 1-64 bytes: {self.callback!r}")

    def as_dict(self) -> dict[str, Any]:
        text = fit_plain(self.text, BUTTON_TEXT_LIMIT)
        if self.web_app:
            return {"text": text, "web_app": {"url": self.web_app}}
        if self.url:
            return {"text": text, "url": self.url}
        return {"text": text, "callback_data": self.callback or "noop"}


Buttons = tuple[tuple[Button, ...], ...]

# In a stored payload, a file to upload: {"field": "document", "filename": ..., "b64": ...}.
FILE_KEY = "_upload"


class Outgoing(Protocol):
    """Anything the outbox can store: a Bot API method, its chat and its parameters."""

    @property
    def chat_id(self) -> int: ...

    @property
    def method(self) -> str: ...

    def payload(self) -> dict[str, Any]: ...


def _with(data: dict[str, Any], buttons: Buttons, caption: str = "") -> dict[str, Any]:
    """`data` plus an HTML caption and inline buttons, where there are any."""
    if caption:
        data |= {"caption": fit_html(caption, CAPTION_LIMIT), "parse_mode": "HTML"}
    if buttons:
        data["reply_markup"] = {"inline_keyboard": [[b.as_dict() for b in row] for row in buttons]}
    return data


@dataclass(frozen=True)
class OutgoingMessage:
    """A Telegram HTML message: every user-provided value in `text` is already escaped."""

    chat_id: int
    text: str
    buttons: Buttons = ()
    disable_preview: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    method: str = "sendMessage"

    def payload(self) -> dict[str, Any]:
        data = {
            "text": fit_html(self.text, TEXT_LIMIT),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": self.disable_preview},
            **self.extra,
        }
        return _with(data, self.buttons)


@dataclass(frozen=True)
class OutgoingEdit:
    """New text (and buttons) for a message the bot sent before (`editMessageText`)."""

    chat_id: int
    message_id: int
    text: str
    buttons: Buttons = ()
    method: str = "editMessageText"

    def payload(self) -> dict[str, Any]:
        data = {
            "message_id": self.message_id,
            "text": fit_html(self.text, TEXT_LIMIT),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        return _with(data, self.buttons)


@dataclass(frozen=True)
class OutgoingFile:
    """A photo (`sendPhoto`) or document (`sendDocument`) uploaded from bytes we made.

    The bytes are stored in the row (base64), so the upload survives a restart like any
    message; keep them small (a QR code, a CSV export).
    """

    chat_id: int
    filename: str
    data: bytes
    caption: str = ""
    buttons: Buttons = ()
    photo: bool = False

    @property
    def method(self) -> str:
        return "sendPhoto" if self.photo else "sendDocument"

    def payload(self) -> dict[str, Any]:
        upload = {
            "field": "photo" if self.photo else "document",
            "filename": self.filename,
            "b64": base64.b64encode(self.data).decode("ascii"),
        }
        return _with({FILE_KEY: upload}, self.buttons, self.caption)


@dataclass(frozen=True)
class OutgoingPhoto:
    """A photo Telegram already has (`file_id`, e.g. one a user sent), with an HTML caption."""

    chat_id: int
    file_id: str
    caption: str = ""
    buttons: Buttons = ()
    method: str = "sendPhoto"

    def payload(self) -> dict[str, Any]:
        return _with({"photo": self.file_id}, self.buttons, self.caption)


@dataclass(frozen=True)
class OutgoingCaptionEdit:
    """A new caption (and buttons) for a photo or document the bot sent before
    (`editMessageCaption`: Telegram refuses `editMessageText` on a message without text)."""

    chat_id: int
    message_id: int
    caption: str
    buttons: Buttons = ()
    method: str = "editMessageCaption"

    def payload(self) -> dict[str, Any]:
        caption = fit_html(self.caption, CAPTION_LIMIT)
        data = {"message_id": self.message_id, "caption": caption, "parse_mode": "HTML"}
        return _with(data, self.buttons)


async def enqueue(
    connection: BaseDBAsyncClient,
    clock: Clock,
    *,
    key: str,
    message: Outgoing,
    priority: Priority = Priority.NORMAL,
    lead_id: int | None = None,
    not_before: float | None = None,
) -> bool:
    """Store `message` for sending; False when `key` was enqueued before (nothing added).

    Call it inside the caller's transaction. The insert ignores a conflicting key
    (ON CONFLICT DO NOTHING), which keeps a PostgreSQL transaction usable where a
    caught IntegrityError would have aborted it.
    """
    if await OutboxMessage.filter(key=key).using_db(connection).exists():
        return False
    now = clock.now()
    row = OutboxMessage(
        key=key,
        chat_id=message.chat_id,
        method=message.method,
        payload=message.payload(),
        priority=int(priority),
        not_before=now if not_before is None else not_before,
        created_at=now,
        lead_id=lead_id,
    )
    await OutboxMessage.bulk_create([row], ignore_conflicts=True, using_db=connection)
    return True


async def enqueue_many(
    connection: BaseDBAsyncClient,
    clock: Clock,
    messages: Iterable[tuple[str, Outgoing]],
    *,
    priority: Priority = Priority.NORMAL,
    batch: int = 500,
    lead_ids: Mapping[str, int] | None = None,
) -> None:
    """`enqueue` for many (key, message) pairs at once (a broadcast to thousands, a burst
    of partner notices): one insert per `batch`; keys already queued are skipped, so a
    retry adds nothing. `lead_ids` names the lead a key's message is about, if any."""
    now = clock.now()
    leads = lead_ids or {}
    rows = [
        {
            "key": key,
            "chat_id": message.chat_id,
            "method": message.method,
            "payload": message.payload(),
            "priority": int(priority),
            "not_before": now,
            "created_at": now,
            "lead_id": leads.get(key),
        }
        for key, message in messages
    ]
    # Rows built from the model's fields (`core/bulk.py`), not model instances: this runs
    # for every lead of a burst, and `bulk_create` spent more on building than on writing.
    for start in range(0, len(rows), batch):
        await insert_rows(
            connection,
            OutboxMessage,
            rows[start : start + batch],
            returning_ids=False,
            ignore_conflicts=True,
        )
