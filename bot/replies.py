"""Answers to a user go through the outbox too: within Telegram's limits even while a
broadcast runs, durable, and once — keyed by the update they answer, so an update that
Telegram hands out again after a crash is not answered twice."""

from __future__ import annotations

from collections.abc import Callable

from tortoise.backends.base.client import BaseDBAsyncClient

from core.clock import Clock
from core.hub import SignalHub
from delivery.outbox import Buttons, Outgoing, OutgoingEdit, OutgoingFile, OutgoingMessage, enqueue
from models import Priority


class Replies:
    """Shared by every update: where answers are queued, and who to wake."""

    def __init__(self, hub: SignalHub, clock: Clock, notify: Callable[[], None]) -> None:
        self._hub = hub
        self._clock = clock
        self._notify = notify

    def to(self, chat_id: int, update_id: int) -> Reply:
        return Reply(self, chat_id, update_id)

    async def send(
        self, key: str, message: Outgoing, connection: BaseDBAsyncClient | None = None
    ) -> None:
        """Queue `message`; with `connection`, inside that (the caller's) transaction."""
        if connection is None:
            async with self._hub.transaction() as tx:
                await self.send(key, message, tx.connection)
            return
        await enqueue(connection, self._clock, key=key, message=message, priority=Priority.CRITICAL)
        self._notify()


class Reply:
    """`await reply(text, buttons=...)` answers the current update's chat."""

    def __init__(self, replies: Replies, chat_id: int, update_id: int) -> None:
        self._replies = replies
        self.chat_id = chat_id
        self._update_id = update_id
        self._count = 0

    async def __call__(self, text: str, buttons: Buttons = ()) -> None:
        await self.send(OutgoingMessage(self.chat_id, text, buttons=buttons))

    async def edit(self, message_id: int, text: str, buttons: Buttons = ()) -> None:
        """Replace the text of a message of ours (a list page, a card) in place."""
        await self.send(OutgoingEdit(self.chat_id, message_id, text, buttons=buttons))

    async def file(
        self, filename: str, data: bytes, *, caption: str = "", photo: bool = False
    ) -> None:
        """Upload a file we made (a CSV export; with `photo`, an image such as a QR code)."""
        await self.send(OutgoingFile(self.chat_id, filename, data, caption=caption, photo=photo))

    async def send(self, message: Outgoing, connection: BaseDBAsyncClient | None = None) -> None:
        """Queue any outgoing message; pass `connection` to queue it inside a transaction
        whose events must not overtake this answer (their consumers run after commit)."""
        key = f"reply:{self._update_id}:{self._count}"
        self._count += 1
        await self._replies.send(key, message, connection)
