"""The outbox sender: drains `outbox` within Telegram's limits, in priority order.

It only runs the loop — load what is pending, pick, send, do what the outcome says — and
hands each job to its part: which message goes next is `pending.py`, when a request may
leave is `pacing.py`, the queries of the table are `ledger.py`, the Bot API call and what
its answer means are `telegram.py` (the only part that knows aiogram).

Order: a chat's messages go one at a time in (priority, id) order; across chats, the
best (priority, id) among the chats that may receive now goes next, so a reminder
queued behind a broadcast overtakes it at the next free slot.

Delivery is at-least-once in one narrow case: if the process dies after Telegram
accepted a message and before the row was marked sent (a few milliseconds), the message
is sent again after the restart. Telegram offers no idempotency key to close that gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from core.clock import Clock
from core.hub import SignalHub
from core.settings import Settings
from delivery.ledger import OutboxLedger
from delivery.outcomes import Next, Outcome, describe
from delivery.pacing import Pacer, RealTime
from delivery.pending import Item, PendingMessages
from delivery.telegram import TelegramTransport
from models import OutboxMessage

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

BOOKKEEPING_RETRY = 5.0  # seconds: the database refused to record an outcome; try again
FULL_SYNC_SECONDS = 30.0
FINISH_SECONDS = 5.0  # the longest `finish_inflight` waits for calls already made
# Enough requests in flight to cover Telegram's round trip at 30/s, and few enough that
# an urgent message waits behind at most ~0.4 s of reserved slots.
CONCURRENCY = 12


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        hub: SignalHub,
        clock: Clock,
        settings: Settings,
        *,
        poll_seconds: float = 0.2,
        concurrency: int = CONCURRENCY,
        pace: RealTime | None = None,
    ) -> None:
        """`clock` dates rows and retries; `pace` spaces requests in real time."""
        self._transport = TelegramTransport(bot)
        self._ledger = OutboxLedger(hub, clock)
        self._pacer = Pacer(settings, pace)
        self._clock = clock
        self._mono = self._pacer.now
        self._poll = poll_seconds
        self._concurrency = concurrency
        self._pending = PendingMessages(clock.now, self._mono)
        self._known: set[int] = set()
        self._max_id = 0
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        # Outcomes of calls made but not yet stored (the database failed): row id → outcome.
        self._unrecorded: dict[int, Outcome] = {}

    # ---- lifecycle ------------------------------------------------------------------

    async def recover(self) -> None:
        """At start: a message caught mid-send by a crash is sent again (see module doc)."""
        await self._ledger.recover()

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

    async def finish_inflight(self, seconds: float = FINISH_SECONDS) -> None:
        """Let messages already handed to Telegram finish (their rows get marked), for at
        most `seconds`."""
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=seconds)

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
        added = 0
        for row_id, chat_id, priority, not_before in await self._ledger.pending(
            None if full else self._max_id
        ):
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
        items = self._pending.take(min(free, self._pacer.pass_size))
        for item in items:
            task = asyncio.create_task(self._send(item, self._pacer.reserve_slot()))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(items)

    async def _sleep(self) -> None:
        waits = [self._pending.seconds_to_next(self._poll)]
        if len(self._inflight) >= self._concurrency:  # a finished send wakes us
            waits = [self._poll]
        self._wake.clear()
        timeout = max(0.001, min(waits)) / self._pacer.time.scale
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
            self._pending.done(chat, self._pacer.cool_down(chat))
            self._wake.set()

    async def _attempt(self, item: Item, slot: float) -> None:
        unrecorded = self._unrecorded.get(item.id)
        if unrecorded is not None:  # the call was made; only its outcome is to be stored
            row = await self._ledger.sending(item.id)
            if row is not None:
                await self._record(row, item, unrecorded)
            self._unrecorded.pop(item.id, None)
            return
        row = await self._ledger.claim(item.id)
        if row is None:  # not to be sent (cancelled, taken, or its chat unreachable)
            self._known.discard(item.id)
            return
        outcome = await self._call(row, slot)
        # From here the call is made: its outcome is kept until the row says it, so a
        # database error cannot turn into a second send.
        self._unrecorded[item.id] = outcome
        await self._record(row, item, outcome)
        self._unrecorded.pop(item.id, None)

    async def _call(self, row: OutboxMessage, slot: float) -> Outcome:
        """Make the row's Bot API call; whatever happens is an `Outcome`."""
        try:
            request = self._transport.request(row.method, row.chat_id, row.payload)
        except Exception as exc:  # a payload no request can carry: sending again won't help
            return Outcome(Next.FAILED, f"invalid payload: {describe(exc)}")
        # Database work is done: only the request itself stands between slot and arrival.
        await self._pacer.wait_for_slot(slot)
        try:
            return await self._transport.send(request, row.attempts)
        finally:
            self._pacer.landed()

    async def _record(self, row: OutboxMessage, item: Item, outcome: Outcome) -> None:
        """Store what became of the row, then queue what comes next in memory."""
        if outcome.pause:
            self._pacer.pause(outcome.pause)
            log.warning("outbox: pausing all sends for %ss: %s", outcome.pause, outcome.error)
        stored = await self._ledger.record(row, outcome)
        if stored is Next.RETRY:
            self._retry(item, outcome.delay)
        elif stored is Next.MIGRATED:
            assert outcome.chat_id is not None
            item.chat_id = outcome.chat_id
            item.not_before = self._clock.now()
            self._pending.put_back(item)
            self._pending.move_chat(row.chat_id, outcome.chat_id)
        else:
            if stored is Next.UNREACHABLE:
                self._pending.drop_chat(row.chat_id)
            self._known.discard(row.id)

    def _retry(self, item: Item, delay: float) -> None:
        item.not_before = self._clock.now() + delay
        self._pending.put_back(item)
