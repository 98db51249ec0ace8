"""The signal hub: publish/subscribe of the catalogue's events, durable and retried.

Every event is stored (`event_log`) together with one `event_delivery` row per subscriber
in the same transaction as the state change that caused it. Only after the commit do the
subscribers run, each on its own: one that raises is logged and retried later with
backoff, the others go on. Work that was pending or running when the process died is
picked up again by `start()`. A subscriber gets a `Delivery` whose `key` is stable across
retries, so it can make its effects idempotent (e.g. key the Telegram message it queues).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.bulk import insert_rows
from core.clock import Clock
from core.events import Event, spec_of
from core.group_commit import Batch, GroupCommit
from models import DeliveryStatus, EventDelivery, EventRecord

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

RETRY_DELAYS: tuple[float, ...] = (1, 5, 30, 120, 600, 1800, 3600, 3600, 3600, 3600)


@dataclass(frozen=True)
class Delivery:
    """What a subscriber knows about the piece of work it is doing."""

    event_id: int
    subscriber: str
    attempt: int

    @property
    def key(self) -> str:
        """Stable across retries and restarts: use it to make effects happen once."""
        return f"{self.event_id}:{self.subscriber}"


Handler = Callable[[Any, Delivery], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    event: str
    name: str
    handler: Handler

    @property
    def summary(self) -> str:
        doc = (self.handler.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


class Publisher:
    """Publishes inside one database transaction; dispatch waits for its commit."""

    def __init__(self, hub: SignalHub, connection: BaseDBAsyncClient) -> None:
        self._hub = hub
        self.connection = connection
        self.stored: list[tuple[int, Event]] = []

    async def publish(self, event: Event) -> int:
        return (await self.publish_many([event]))[0]

    async def publish_many(self, events: Sequence[Event]) -> list[int]:
        """Store several events at once (fewer statements); their ids, in order."""
        return await self._hub._store(events, self.connection, self.stored)


class SignalHub:
    def __init__(
        self,
        clock: Clock,
        *,
        dispatch: bool = True,
        workers: int = 4,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        """`dispatch=False` stores events only (the CLI: the running service delivers)."""
        self._clock = clock
        self._dispatch = dispatch
        self._workers = workers
        self._retry_delays = tuple(retry_delays)
        self._subs: dict[str, list[Subscription]] = {}
        self._by_name: dict[str, Subscription] = {}
        self._queue: asyncio.Queue[tuple[int, Event | None]] = asyncio.Queue()
        self._queued: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = 0
        self._groups: dict[Batch[Publisher, Any, Any], GroupCommit[Publisher, Any, Any]] = {}

    # ---- subscriptions --------------------------------------------------------------

    def subscribe(self, event_name: str, handler: Handler, *, name: str | None = None) -> None:
        """Register `handler` for `event_name`; `name` (default: the function's) is durable."""
        spec_of(event_name)
        sub_name = name or f"{handler.__module__}.{handler.__qualname__}"
        if sub_name in self._by_name:
            raise ValueError(f"subscriber {sub_name!r} is registered twice")
        sub = Subscription(event_name, sub_name, handler)
        self._subs.setdefault(event_name, []).append(sub)
        self._by_name[sub_name] = sub

    def on(self, event_name: str, *, name: str | None = None) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.subscribe(event_name, handler, name=name)
            return handler

        return register

    @property
    def subscriptions(self) -> list[Subscription]:
        return [s for subs in self._subs.values() for s in subs]

    # ---- publishing -----------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Publisher]:
        """`async with hub.transaction() as tx:` change state and `await tx.publish(e)`."""
        async with in_transaction() as connection:
            publisher = Publisher(self, connection)
            yield publisher
        self._after_commit(publisher.stored)

    async def publish(self, event: Event) -> int:
        async with self.transaction() as tx:
            return await tx.publish(event)

    async def grouped(self, batch: Batch[Publisher, T, R], item: T) -> R:
        """`await batch(tx, [item, ...])` in a transaction shared with the other callers of
        the same `batch` function that are waiting now: one commit for all of them (group
        commit, `core/group_commit.py`). Returns this item's result after the commit."""
        group: GroupCommit[Publisher, T, R] | None = self._groups.get(batch)
        if group is None:
            group = self._groups[batch] = GroupCommit(self.transaction, batch)
        return await group.submit(item)

    async def _store(
        self,
        events: Sequence[Event],
        connection: BaseDBAsyncClient,
        stored: list[tuple[int, Event]],
    ) -> list[int]:
        # Two statements however many events (`core/bulk.py`): this runs on every ingest.
        now = self._clock.now()
        rows = []
        for event in events:
            spec_of(event.event_name)
            payload = event.payload()
            rows.append(
                {
                    "name": event.event_name,
                    "payload": payload,
                    "lead_id": payload.get("lead_id"),
                    "webinar_id": payload.get("webinar_id"),
                    "created_at": now,
                }
            )
        ids = await insert_rows(connection, EventRecord, rows)
        deliveries = []
        for event_id, event in zip(ids, events, strict=True):
            subs = self._subs.get(event.event_name, [])
            if subs:
                deliveries += [
                    {"event_id": event_id, "subscriber": s.name, "next_attempt_at": now}
                    for s in subs
                ]
                stored.append((event_id, event))
        if deliveries:
            await insert_rows(connection, EventDelivery, deliveries, returning_ids=False)
        return ids

    def _after_commit(self, stored: list[tuple[int, Event]]) -> None:
        if not (self._dispatch and self._tasks and stored):
            return
        for event_id, event in stored:
            # Delivery rows are looked up by the worker; the event itself rides along.
            self._enqueue(-event_id, event)

    # ---- dispatching ----------------------------------------------------------------

    async def start(self) -> None:
        """Recover work interrupted by a crash, then deliver in the background."""
        if not self._dispatch:
            return
        await EventDelivery.filter(status=DeliveryStatus.RUNNING).update(
            status=DeliveryStatus.PENDING
        )
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self._workers)]
        await self.sweep()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def sweep(self) -> int:
        """Queue every pending delivery that is due; the scheduler calls this each second."""
        if not self._tasks:
            return 0
        due = cast(
            "list[tuple[int, int]]",
            await EventDelivery.filter(
                status=DeliveryStatus.PENDING, next_attempt_at__lte=self._clock.now()
            )
            .order_by("id")
            .limit(1000)
            .values_list("id", "event_id"),
        )
        count = 0
        for delivery_id, event_id in due:
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

    async def _worker(self) -> None:
        while True:
            item_id, event = await self._queue.get()
            try:
                if item_id < 0 and event is not None:
                    await self._deliver_fresh(-item_id, event)
                else:
                    await self._deliver(item_id, event)
            except Exception:  # the hub itself must never die; the sweep retries
                log.exception("hub: delivery bookkeeping failed for %s", item_id)
            finally:
                self._queued.discard(item_id)
                self._busy -= 1
                if self._busy == 0:
                    self._idle.set()

    async def _deliver_fresh(self, event_id: int, event: Event) -> None:
        """Every subscriber of a just-published event. The event is at hand, and the
        successes are marked done together: fewer statements than one delivery at a time."""
        rows = await EventDelivery.filter(
            event_id=event_id, status=DeliveryStatus.PENDING
        ).values_list("id", "subscriber", "attempts")
        done: list[int] = []
        for delivery_id, subscriber, attempts in cast("list[tuple[int, str, int]]", rows):
            claimed = await EventDelivery.filter(
                id=delivery_id, status=DeliveryStatus.PENDING
            ).update(status=DeliveryStatus.RUNNING, attempts=F("attempts") + 1)
            if not claimed:
                continue
            row = EventDelivery(
                id=delivery_id, event_id=event_id, subscriber=subscriber, attempts=attempts + 1
            )
            if await self._run(row, event):
                done.append(delivery_id)
        if done:
            await EventDelivery.filter(id__in=done).update(
                status=DeliveryStatus.DONE, done_at=self._clock.now(), last_error=None
            )

    async def _run(self, row: EventDelivery, event: Event) -> bool:
        """Run one claimed delivery; True when it succeeded (the caller marks it done)."""
        sub = self._by_name.get(row.subscriber)
        if sub is None:
            await self._finish(row, DeliveryStatus.FAILED, "no such subscriber in this version")
            return False
        try:
            await sub.handler(event, Delivery(row.event_id, sub.name, row.attempts))
        except Exception as exc:
            log.exception("hub: %s failed on %s #%s", sub.name, event.event_name, row.event_id)
            await self._retry_later(row, f"{type(exc).__name__}: {exc}")
            return False
        return True

    async def _deliver(self, delivery_id: int, event: Event | None) -> None:
        claimed = await EventDelivery.filter(id=delivery_id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.RUNNING, attempts=F("attempts") + 1
        )
        if not claimed:
            return
        row = await EventDelivery.get(id=delivery_id).prefetch_related("event")
        if event is None:
            event = spec_of(row.event.name).payload.from_payload(row.event.payload)
        if await self._run(row, event):
            await self._finish(row, DeliveryStatus.DONE, None)

    async def _retry_later(self, row: EventDelivery, error: str) -> None:
        if row.attempts >= len(self._retry_delays):
            log.error("hub: giving up %s on event #%s", row.subscriber, row.event_id)
            await self._finish(row, DeliveryStatus.FAILED, error)
            return
        delay = self._retry_delays[row.attempts - 1]
        await EventDelivery.filter(id=row.id).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=self._clock.now() + delay,
            last_error=error[:2000],
        )

    async def _finish(self, row: EventDelivery, status: DeliveryStatus, error: str | None) -> None:
        await EventDelivery.filter(id=row.id).update(
            status=status, done_at=self._clock.now(), last_error=error
        )
