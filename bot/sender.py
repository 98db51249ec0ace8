"""The outbox sender: drains `outbox` within Telegram's limits, in priority order.

Pacing, not reaction: the sender spaces sends so that no window ever holds more than the
configured number (all chats together, one chat, one group), so a well-behaved run sees
no 429 at all. If Telegram still answers 429, its `retry_after` pauses all sending.

Order: a chat's messages go one at a time in (priority, id) order; across chats, the
best (priority, id) among the chats that may receive now goes next, so a reminder
queued behind a broadcast overtakes it at the next free slot.

What each answer (or failure) of a call does to its row is `bot/outcomes.py`: sent,
failed for good, unreachable chat, migrated group, or again after a backoff; no row is
left `sending`.

Delivery is at-least-once in one narrow case: if the process dies after Telegram
accepted a message and before the row was marked sent (a few milliseconds), the message
is sent again after the restart. Telegram offers no idempotency key to close that gap.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections import deque
from typing import Any

from aiogram import Bot
from aiogram import methods as tg_methods
from aiogram.types import BufferedInputFile

from bot.outbox import FILE_KEY
from bot.outcomes import Next, Outcome, describe, outcome_of
from bot.pending import Item, PendingMessages
from core.clock import Clock
from core.events import TelegramChatMigrated, TelegramChatUnreachable
from core.hub import SignalHub
from core.settings import Settings, parse_rate
from models import Broadcast, LeadEntry, OutboxMessage, OutboxStatus, TelegramChat, User

log = logging.getLogger(__name__)

SYNC_LIMIT = 5000
BOOKKEEPING_RETRY = 5.0  # seconds: the database refused to record an outcome; try again
# Requests leave evenly spaced, but arrive with network jitter: keep a few percent below
# each limit so that no window on Telegram's side ever sees one send too many.
MARGIN = 1.04
FULL_SYNC_SECONDS = 30.0


class RealTime:
    """The time base of pacing. Tests may run it faster (both sides of the limit alike)."""

    scale = 1.0  # virtual seconds per real second

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        hub: SignalHub,
        clock: Clock,
        settings: Settings,
        *,
        poll_seconds: float = 0.2,
        # Enough requests in flight to cover Telegram's round trip at 30/s, and few
        # enough that an urgent message waits behind at most ~0.4 s of reserved slots.
        concurrency: int = 12,
        pace: RealTime | None = None,
    ) -> None:
        """`clock` dates rows and retries; `pace` spaces requests in real time."""
        self._bot = bot
        self._hub = hub
        self._clock = clock
        self._pace = pace or RealTime()
        self._mono = self._pace.now
        self._global_gap = _gap(settings.outbox_global_rate)
        self._chat_gap = _gap(settings.outbox_chat_rate)
        self._group_gap = _gap(settings.outbox_group_rate)
        # One pass sends about a second's worth, then looks for newer, more urgent rows.
        self._pass_size = max(1, round(1 / self._global_gap))
        # Our own one-second window, kept so that Telegram's can never overflow: a request
        # arrives some time between its start and its answer, so it counts from its start
        # (in flight) until one second after its answer (recent).
        self._window_cap = self._pass_size
        self._recent: deque[float] = deque()
        self._flying = 0
        self._poll = poll_seconds
        self._concurrency = concurrency
        self._pending = PendingMessages(clock.now, self._mono)
        self._known: set[int] = set()
        self._max_id = 0
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        # Outcomes of calls made but not yet stored (the database failed): row id → outcome.
        self._unrecorded: dict[int, Outcome] = {}

    # ---- lifecycle ------------------------------------------------------------------

    async def recover(self) -> None:
        """At start: a message caught mid-send by a crash is sent again (see module doc)."""
        await OutboxMessage.filter(status=OutboxStatus.SENDING).update(status=OutboxStatus.PENDING)

    def notify(self) -> None:
        """Something was enqueued: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled; looks for new rows every `poll_seconds`, or when notified."""
        await self.recover()
        last_full = self._mono()
        while True:
            # Ids are handed out before commit: on PostgreSQL a row can become visible
            # after a higher id did. A periodic full look finds such stragglers.
            full = self._mono() - last_full > FULL_SYNC_SECONDS
            if full:
                last_full = self._mono()
            await self.sync(full=full)
            await self.send_ready()
            await self._sleep()

    async def finish_inflight(self) -> None:
        """Let messages already handed to Telegram finish (their rows get marked)."""
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=5.0)

    async def drain(self) -> None:
        """Send everything due now and wait for it (tests, benchmarks)."""
        while True:
            await self.sync()
            await self.send_ready()
            if self._inflight:
                await asyncio.wait(self._inflight)
                continue
            if not self._pending.has_due():
                return  # what is left waits for a retry time (advance the clock)
            await self._sleep()

    # ---- what is pending ----------------------------------------------------------------

    async def sync(self, *, full: bool = False) -> int:
        """Load pending rows not yet known (new ids; with `full`, every pending row)."""
        query = OutboxMessage.filter(status=OutboxStatus.PENDING)
        if not full:
            query = query.filter(id__gt=self._max_id)
        rows = (
            await query.order_by("id")
            .limit(SYNC_LIMIT)
            .values_list("id", "chat_id", "priority", "not_before")
        )
        added = 0
        for row_id, chat_id, priority, not_before in rows:
            self._max_id = max(self._max_id, row_id)
            if row_id not in self._known:
                self._known.add(row_id)
                self._pending.add(Item(priority, row_id, chat_id, not_before))
                added += 1
        return added

    async def send_ready(self) -> int:
        """Start sending each chat's head message that may go now, best priority first."""
        # As many as there are free request slots: the rest wait for the next pass, where
        # a newer, more urgent message may overtake them.
        free = self._concurrency - len(self._inflight)
        items = self._pending.take(min(free, self._pass_size))
        for item in items:
            task = asyncio.create_task(self._send(item, self._reserve_slot()))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(items)

    def _reserve_slot(self) -> float:
        """The time this request may leave: slots are handed out evenly spaced, in the
        order messages were picked (best priority first)."""
        slot = max(self._next_slot, self._mono())
        self._next_slot = slot + self._global_gap
        return slot

    async def _wait_for_slot(self, slot: float) -> None:
        """Hold until the reserved slot, a 429 pause, and room in the window."""
        while True:
            now = self._mono()
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            start = max(slot, self._paused_until, now)
            if len(self._recent) + self._flying >= self._window_cap:
                # Room comes when the oldest answer ages out, or a flight lands.
                start = max(start, self._recent[0] + 1.0 if self._recent else now + 0.01)
            if start <= now:
                break
            await self._pace.sleep(start - now)
        self._flying += 1

    def _landed(self) -> None:
        self._flying -= 1
        self._recent.append(self._mono())

    async def _sleep(self) -> None:
        waits = [self._pending.seconds_to_next(self._poll)]
        if len(self._inflight) >= self._concurrency:  # a finished send wakes us
            waits = [self._poll]
        self._wake.clear()
        timeout = max(0.001, min(waits)) / self._pace.scale
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
        # cancellation that lands as its timeout fires, and `run()` then never stops.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()

    # ---- one message --------------------------------------------------------------------

    async def _send(self, item: Item, slot: float) -> None:
        chat = item.chat_id  # a migrated chat moves the item; this chat is the busy one
        try:
            await self._attempt(item, slot)
        except Exception:  # the database failed us; the outcome waits in `_unrecorded`
            log.exception("outbox: could not record message #%s; trying again", item.id)
            self._retry(item, BOOKKEEPING_RETRY)
        finally:
            gap = self._group_gap if chat < 0 else self._chat_gap
            self._pending.done(chat, gap)
            self._wake.set()

    async def _attempt(self, item: Item, slot: float) -> None:
        unrecorded = self._unrecorded.get(item.id)
        if unrecorded is not None:  # the call was made; only its outcome is to be stored
            row = await OutboxMessage.get_or_none(id=item.id, status=OutboxStatus.SENDING)
            if row is not None:
                await self._record(row, item, unrecorded)
            self._unrecorded.pop(item.id, None)
            return
        row = await OutboxMessage.get_or_none(id=item.id, status=OutboxStatus.PENDING)
        if row is None:  # cancelled, or sent by another process
            self._known.discard(item.id)
            return
        if await TelegramChat.filter(chat_id=row.chat_id, unreachable_at__not_isnull=True).exists():
            await self._finish(row, OutboxStatus.UNREACHABLE, "chat is unreachable")
            return
        claimed = await OutboxMessage.filter(id=row.id, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.SENDING, attempts=row.attempts + 1
        )
        if not claimed:  # another sender took it between our two queries
            self._known.discard(item.id)
            return
        row.attempts += 1
        outcome = await self._call(row, slot)
        # From here the call is made: its outcome is kept until the row says it, so a
        # database error cannot turn into a second send.
        self._unrecorded[item.id] = outcome
        await self._record(row, item, outcome)
        self._unrecorded.pop(item.id, None)

    async def _call(self, row: OutboxMessage, slot: float) -> Outcome:
        """Make the row's Bot API call; whatever happens is an `Outcome`."""
        try:
            method = _method(row)
        except Exception as exc:  # a payload no request can carry: sending again won't help
            return Outcome(Next.FAILED, f"invalid payload: {describe(exc)}")
        # Database work is done: only the request itself stands between slot and arrival.
        await self._wait_for_slot(slot)
        try:
            result = await self._bot(method)
        except Exception as exc:
            return outcome_of(exc, row.attempts)
        finally:
            self._landed()
        return Outcome(Next.SENT, message_id=getattr(result, "message_id", None))

    async def _record(self, row: OutboxMessage, item: Item, outcome: Outcome) -> None:
        """Store what became of the row, and schedule what comes next."""
        if outcome.pause:
            self._paused_until = max(self._paused_until, self._mono() + outcome.pause)
            log.warning("outbox: pausing all sends for %ss: %s", outcome.pause, outcome.error)
        if outcome.next is Next.SENT:
            await OutboxMessage.filter(id=row.id).update(
                status=OutboxStatus.SENT,
                sent_at=self._clock.now(),
                message_id=outcome.message_id,
                last_error=outcome.error or None,
            )
            self._known.discard(row.id)
        elif outcome.next is Next.FAILED:
            log.warning("outbox: message #%s failed: %s", row.id, outcome.error)
            await self._finish(row, OutboxStatus.FAILED, outcome.error)
        elif outcome.next is Next.UNREACHABLE:
            await self._unreachable(row, outcome.error)
        elif outcome.next is Next.MIGRATED and outcome.chat_id is not None:
            await self._migrate(row, item, outcome.chat_id, outcome.error)
        else:
            attempts = row.attempts if outcome.counts else row.attempts - 1
            await OutboxMessage.filter(id=row.id).update(
                status=OutboxStatus.PENDING,
                not_before=self._clock.now() + outcome.delay,
                attempts=attempts,
                last_error=outcome.error,
            )
            self._retry(item, outcome.delay)

    def _retry(self, item: Item, delay: float) -> None:
        item.not_before = self._clock.now() + delay
        self._pending.put_back(item)

    async def _finish(self, row: OutboxMessage, status: OutboxStatus, error: str | None) -> None:
        await OutboxMessage.filter(id=row.id).update(status=status, last_error=error)
        self._known.discard(row.id)

    async def _migrate(self, row: OutboxMessage, item: Item, new_chat: int, error: str) -> None:
        """The group became a supergroup: this message and everything queued to the group
        go to the new id, and every chat id we keep follows it, in one transaction."""
        old = row.chat_id
        now = self._clock.now()
        async with self._hub.transaction() as tx:
            db = tx.connection
            await (
                OutboxMessage.filter(
                    chat_id=old, status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]
                )
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
        item.chat_id = new_chat
        item.not_before = now
        self._pending.put_back(item)
        self._pending.move_chat(old, new_chat)

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
                OutboxMessage.filter(
                    chat_id=row.chat_id, status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]
                )
                .using_db(db)
                .update(status=OutboxStatus.UNREACHABLE, last_error=reason[:2000])
            )
            if first_time:
                await tx.publish(
                    TelegramChatUnreachable(
                        timestamp=int(now), chat_id=row.chat_id, reason=reason, lead_id=row.lead_id
                    )
                )
        self._pending.drop_chat(row.chat_id)
        self._known.discard(row.id)


def _gap(rate: str) -> float:
    count, per = parse_rate(rate)
    return per / count * MARGIN


def _method(row: OutboxMessage) -> tg_methods.TelegramMethod[Any]:
    """The aiogram method object for a stored row (`sendMessage` → `SendMessage`)."""
    cls = getattr(tg_methods, row.method[0].upper() + row.method[1:])
    params = {"chat_id": row.chat_id, **row.payload}
    upload = params.pop(FILE_KEY, None)
    if upload is not None:  # a file we made: uploaded as multipart form data
        data = base64.b64decode(upload["b64"])
        params[upload["field"]] = BufferedInputFile(data, filename=upload["filename"])
    return cls.model_validate(params)  # type: ignore[no-any-return]
