"""The hub's workers: a queue of deliveries and the loop that runs them (claim, run, finish).

A fresh event rides along with its id, so its subscribers run without reading it back;
work found by the sweep (retries, work left by another process or a crash) is queued by
delivery id. A subscriber that raises is logged and retried later (`RetryPolicy`); the
others go on, and the loop itself never dies.
"""

from __future__ import annotations

import asyncio
import logging

from core import metrics
from core.clock import Clock
from core.events import Event, spec_of
from core.hub import deliveries
from core.hub.deliveries import Claimed
from core.hub.registry import Delivery, Registry
from core.retry import RetryPolicy
from models import DeliveryStatus

log = logging.getLogger("core.hub")

BATCH = 200  # queued items (fresh events, swept deliveries) one worker takes at once


class Workers:
    def __init__(self, registry: Registry, retry: RetryPolicy, clock: Clock, size: int) -> None:
        self._registry = registry
        self._retry = retry
        self._clock = clock
        self._size = size
        # A fresh event is queued under -event_id (with the event), a delivery under its id.
        self._queue: asyncio.Queue[tuple[int, Event | None]] = asyncio.Queue()
        self._queued: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = 0

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop()) for _ in range(self._size)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def queue_fresh(self, stored: list[tuple[int, Event]]) -> None:
        """Events just committed: their delivery rows are looked up by the worker."""
        if not (self._tasks and stored):
            return
        for event_id, event in stored:
            self._enqueue(-event_id, event)

    async def queue_due(self) -> int:
        """Queue every pending delivery that is due and not queued yet; how many."""
        if not self._tasks:
            return 0
        count = 0
        for delivery_id, event_id in await deliveries.due(self._clock.now()):
            # A fresh event's deliveries are already queued under -event_id: queuing them
            # again made every one of them be claimed twice (one claim failing) under load.
            if delivery_id not in self._queued and -event_id not in self._queued:
                self._enqueue(delivery_id, None)
                count += 1
        return count

    async def drain(self) -> None:
        """Wait until everything queued has been handled (tests, shutdown)."""
        while True:
            await self._idle.wait()
            await asyncio.sleep(0)
            if self._idle.is_set() and self._queue.empty():
                return

    def _enqueue(self, item_id: int, event: Event | None) -> None:
        self._queued.add(item_id)
        self._busy += 1
        self._idle.clear()
        self._queue.put_nowait((item_id, event))

    async def _loop(self) -> None:
        while True:
            items = [await self._queue.get()]
            while len(items) < BATCH and not self._queue.empty():  # the others waiting too
                items.append(self._queue.get_nowait())
            try:
                fresh = [(-i, e) for i, e in items if i < 0 and e is not None]
                if fresh:
                    await self._deliver_fresh(fresh)
                swept = [i for i, e in items if not (i < 0 and e is not None)]
                if swept:
                    await self._deliver_swept(swept)
            except Exception:  # the hub itself must never die; the sweep retries
                log.exception("hub: delivery bookkeeping failed for %s", [i for i, _ in items])
            finally:
                for item_id, _ in items:
                    self._queued.discard(item_id)
                self._busy -= len(items)
                if self._busy == 0:
                    self._idle.set()

    async def _deliver_fresh(self, fresh: list[tuple[int, Event]]) -> None:
        """Every subscriber of a batch of just-published events, with the bookkeeping
        batched: one UPDATE claims all their deliveries, one marks the successes done.
        Each subscriber then gets its share in event order, in one call of its batch
        handler if it has one (a burst of leads: one transaction per subscriber, not per
        lead). A crash anywhere leaves the claimed deliveries `running`, run again at the
        next start: consumers are keyed, so nothing happens twice."""
        events = dict(fresh)
        await self._deliver(await deliveries.claim_of_events(list(events)), events)

    async def _deliver_swept(self, delivery_ids: list[int]) -> None:
        """Deliveries the sweep found (retries, a backlog after a restart): claimed in one
        UPDATE, their events read in one query, run per subscriber as fresh ones."""
        claimed = await deliveries.claim_many(delivery_ids)
        if not claimed:
            return
        rows = await deliveries.claimed_rows([row.id for row in claimed])
        events = {
            row.event_id: spec_of(row.event.name).payload.from_payload(row.event.payload)
            for row in rows
        }
        await self._deliver([row for row in claimed if row.event_id in events], events)

    async def _deliver(self, claimed: list[Claimed], events: dict[int, Event]) -> None:
        groups: dict[str, list[Claimed]] = {}
        for row in claimed:  # in id order: each subscriber's share in event order
            groups.setdefault(row.subscriber, []).append(row)
        done: list[int] = []
        for group in groups.values():
            done += await self._run_group(group, events)
        if done:
            await deliveries.mark_done(done, self._clock.now())

    async def _run_group(self, group: list[Claimed], events: dict[int, Event]) -> list[int]:
        """One subscriber's deliveries of a batch; the ids that succeeded."""
        sub = self._registry.named(group[0].subscriber)
        if sub is not None and sub.batch is not None and len(group) > 1:
            work = [
                (events[row.event_id], Delivery(row.event_id, sub.name, row.attempts))
                for row in group
            ]
            try:
                await sub.batch(work)
            except Exception as exc:
                log.warning(
                    "hub: %s failed on a batch of %d (%s); one at a time",
                    sub.name,
                    len(group),
                    type(exc).__name__,
                )
            else:
                now = self._clock.now()
                metrics.HUB_DELIVERIES.labels(sub.name, "done").inc(len(work))
                lag = metrics.HUB_LAG.labels(sub.name)
                for event, _ in work:
                    lag.observe(max(0.0, now - event.timestamp))
                return [row.id for row in group]
        return [row.id for row in group if await self._run(row, events[row.event_id])]

    async def _run(self, row: Claimed, event: Event) -> bool:
        """Run one claimed delivery; True when it succeeded (the caller marks it done)."""
        sub = self._registry.named(row.subscriber)
        if sub is None:
            error = "no such subscriber in this version"
            await deliveries.finish(row.id, DeliveryStatus.FAILED, error, self._clock.now())
            return False
        try:
            await sub.handler(event, Delivery(row.event_id, sub.name, row.attempts))
        except Exception as exc:
            log.exception("hub: %s failed on %s #%s", sub.name, event.event_name, row.event_id)
            await self._retry_later(row, f"{type(exc).__name__}: {exc}")
            return False
        metrics.HUB_DELIVERIES.labels(sub.name, "done").inc()
        metrics.HUB_LAG.labels(sub.name).observe(max(0.0, self._clock.now() - event.timestamp))
        return True

    async def _retry_later(self, row: Claimed, error: str) -> None:
        delay = self._retry.delay_after(row.attempts)
        metrics.HUB_DELIVERIES.labels(row.subscriber, "retry" if delay else "failed").inc()
        if delay is None:
            log.error("hub: giving up %s on event #%s", row.subscriber, row.event_id)
            await deliveries.finish(row.id, DeliveryStatus.FAILED, error, self._clock.now())
            return
        await deliveries.retry_at(row.id, self._clock.now() + delay, error)
