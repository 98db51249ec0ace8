"""The durable outbox: the only way anything reaches Telegram.

Producers (consumers of events, the scenario engine, bot screens that notify others) call
`enqueue` inside their own database transaction, so a message exists exactly when the state
change that caused it does. The sender (`OutboxSender`) drains the table within
Telegram's limits. The idempotency `key` makes enqueueing safe to repeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.clock import Clock
from models import OutboxMessage, Priority


@dataclass(frozen=True)
class Button:
    """An inline button: `url` opens a link, `callback` comes back as a callback_query."""

    text: str
    url: str | None = None
    callback: str | None = None

    def as_dict(self) -> dict[str, str]:
        if self.url:
            return {"text": self.text, "url": self.url}
        return {"text": self.text, "callback_data": self.callback or "noop"}


@dataclass(frozen=True)
class OutgoingMessage:
    """A Telegram HTML message: every user-provided value in `text` is already escaped."""

    chat_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    disable_preview: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": self.disable_preview},
            **self.extra,
        }
        if self.buttons:
            data["reply_markup"] = {
                "inline_keyboard": [[b.as_dict() for b in row] for row in self.buttons]
            }
        return data


async def enqueue(
    connection: BaseDBAsyncClient,
    clock: Clock,
    *,
    key: str,
    message: OutgoingMessage,
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
        method="sendMessage",
        payload=message.payload(),
        priority=int(priority),
        not_before=now if not_before is None else not_before,
        created_at=now,
        lead_id=lead_id,
    )
    await OutboxMessage.bulk_create([row], ignore_conflicts=True, using_db=connection)
    return True
