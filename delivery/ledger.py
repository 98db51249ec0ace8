"""The outbox's bookkeeping: every query of the `outbox` table the sender makes.

Which rows are pending, claiming one for a send, and storing what became of it (sent,
failed for good, the chat unreachable, the group migrated, or pending again after a
backoff). A 403 and a migration change other tables too and are events, so they run in
one hub transaction with the event they publish. Nothing here knows Telegram or pacing.
"""

from __future__ import annotations

import logging

from core.clock import Clock
from core.events import TelegramChatMigrated, TelegramChatUnreachable
from core.hub import SignalHub
from delivery.outcomes import Next, Outcome
from models import Broadcast, LeadEntry, OutboxMessage, OutboxStatus, TelegramChat, User

log = logging.getLogger(__name__)

SYNC_LIMIT = 5000
OPEN = (OutboxStatus.PENDING, OutboxStatus.SENDING)


class OutboxLedger:
    def __init__(self, hub: SignalHub, clock: Clock) -> None:
        self._hub = hub
        self._clock = clock

    async def recover(self) -> None:
        """At start: a message caught mid-send by a crash is sent again."""
        await OutboxMessage.filter(status=OutboxStatus.SENDING).update(status=OutboxStatus.PENDING)

    async def pending(self, after_id: int | None) -> list[tuple[int, int, int, float]]:
        """(id, chat, priority, not_before) of pending rows, by id: those after `after_id`,
        or every one when it is None."""
        query = OutboxMessage.filter(status=OutboxStatus.PENDING)
        if after_id is not None:
            query = query.filter(id__gt=after_id)
        rows = (
            await query.order_by("id")
            .limit(SYNC_LIMIT)
            .values_list("id", "chat_id", "priority", "not_before")
        )
        return rows

    async def claim(self, row_id: int) -> OutboxMessage | None:
        """The row, turned `sending` with one more attempt; None when it is not to be sent
        (cancelled, taken by another sender, or its chat is unreachable: then it is
        marked so)."""
        row = await OutboxMessage.get_or_none(id=row_id, status=OutboxStatus.PENDING)
        if row is None:  # cancelled, or sent by another process
            return None
        if await TelegramChat.filter(chat_id=row.chat_id, unreachable_at__not_isnull=True).exists():
            await self._finish(row, OutboxStatus.UNREACHABLE, "chat is unreachable")
            return None
        claimed = await OutboxMessage.filter(id=row.id, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.SENDING, attempts=row.attempts + 1
        )
        if not claimed:  # another sender took it between our two queries
            return None
        row.attempts += 1
        return row

    async def sending(self, row_id: int) -> OutboxMessage | None:
        """The row still `sending` (its call was made, its outcome not yet stored)."""
        return await OutboxMessage.get_or_none(id=row_id, status=OutboxStatus.SENDING)

    async def record(self, row: OutboxMessage, outcome: Outcome) -> Next:
        """Store what became of the row; returns what was stored (a migration without a
        new chat id is a retry)."""
        if outcome.next is Next.SENT:
            await OutboxMessage.filter(id=row.id).update(
                status=OutboxStatus.SENT,
                sent_at=self._clock.now(),
                message_id=outcome.message_id,
                last_error=outcome.error or None,
            )
            return Next.SENT
        if outcome.next is Next.FAILED:
            log.warning("outbox: message #%s failed: %s", row.id, outcome.error)
            await self._finish(row, OutboxStatus.FAILED, outcome.error)
            return Next.FAILED
        if outcome.next is Next.UNREACHABLE:
            await self._unreachable(row, outcome.error)
            return Next.UNREACHABLE
        if outcome.next is Next.MIGRATED and outcome.chat_id is not None:
            await self._migrate(row, outcome.chat_id, outcome.error)
            return Next.MIGRATED
        attempts = row.attempts if outcome.counts else row.attempts - 1
        await OutboxMessage.filter(id=row.id).update(
            status=OutboxStatus.PENDING,
            not_before=self._clock.now() + outcome.delay,
            attempts=attempts,
            last_error=outcome.error,
        )
        return Next.RETRY

    async def _finish(self, row: OutboxMessage, status: OutboxStatus, error: str | None) -> None:
        await OutboxMessage.filter(id=row.id).update(status=status, last_error=error)

    async def _migrate(self, row: OutboxMessage, new_chat: int, error: str) -> None:
        """The group became a supergroup: this message and everything queued to the group
        go to the new id, and every chat id we keep follows it, in one transaction."""
        old = row.chat_id
        now = self._clock.now()
        async with self._hub.transaction() as tx:
            db = tx.connection
            await (
                OutboxMessage.filter(chat_id=old, status__in=OPEN)
                .using_db(db)
                .update(chat_id=new_chat)
            )
            await (
                OutboxMessage.filter(id=row.id)
                .using_db(db)
                .update(status=OutboxStatus.PENDING, not_before=now, last_error=error)
            )
            await User.filter(chat_id=old).using_db(db).update(chat_id=new_chat)
            await LeadEntry.filter(chat_id=old).using_db(db).update(chat_id=new_chat)
            await (
                Broadcast.filter(progress_chat_id=old)
                .using_db(db)
                .update(progress_chat_id=new_chat)
            )
            if not await TelegramChat.filter(chat_id=new_chat).using_db(db).exists():
                await TelegramChat.filter(chat_id=old).using_db(db).update(chat_id=new_chat)
            await tx.publish(
                TelegramChatMigrated(
                    timestamp=int(now),
                    chat_id=old,
                    migrate_to_chat_id=new_chat,
                    lead_id=row.lead_id,
                )
            )
        log.info("outbox: chat %s became %s; its messages follow", old, new_chat)

    async def _unreachable(self, row: OutboxMessage, reason: str) -> None:
        """403: the user blocked the bot. Stop sending there, and say so once."""
        now = self._clock.now()
        async with self._hub.transaction() as tx:
            db = tx.connection
            chat, _ = await TelegramChat.get_or_create(chat_id=row.chat_id, using_db=db)
            first_time = chat.unreachable_at is None
            await (
                TelegramChat.filter(id=chat.id)
                .using_db(db)
                .update(unreachable_at=now, unreachable_reason=reason[:200])
            )
            await (
                OutboxMessage.filter(chat_id=row.chat_id, status__in=OPEN)
                .using_db(db)
                .update(status=OutboxStatus.UNREACHABLE, last_error=reason[:2000])
            )
            if first_time:
                await tx.publish(
                    TelegramChatUnreachable(
                        timestamp=int(now), chat_id=row.chat_id, reason=reason, lead_id=row.lead_id
                    )
                )
