"""The signal hub: publish/subscribe of the catalogue's events, durable and retried.

Every event is stored (`event_log`) together with one `event_delivery` row per subscriber
in the same transaction as the state change that caused it. Only after the commit do the
subscribers run, each on its own: one that raises is logged and retried later with
backoff, the others go on. Work that was pending or running when the process died is
picked up again by `start()`. A subscriber gets a `Delivery` whose `key` is stable across
retries, so it can make its effects idempotent (e.g. key the Telegram message it queues).

`SignalHub` is the small public face; the jobs live beside it: `registry` (who subscribes
to what), `store` (events and their delivery rows), `deliveries` (every query of the
delivery table), `worker` (the queue and the loop), `core.retry` (again? when?) and
`core.group_commit` (concurrent callers sharing one commit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from tortoise.transactions import in_transaction

from core.clock import Clock
from core.events import Event
from core.group_commit import Batch, GroupCommit
from core.hub import deliveries
from core.hub.registry import BatchHandler, Delivery, Handler, Registry, Subscription
from core.hub.store import EventStore, Publisher
from core.hub.worker import Workers
from core.retry import RetryPolicy

__all__ = [
    "RETRY_DELAYS",
    "BatchHandler",
    "Delivery",
    "Handler",
    "Publisher",
    "SignalHub",
    "Subscription",
]

T = TypeVar("T")
R = TypeVar("R")

RETRY_DELAYS: tuple[float, ...] = (1, 5, 30, 120, 600, 1800, 3600, 3600, 3600, 3600)


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
        self._dispatch = dispatch
        self._registry = Registry()
        self._events = EventStore(clock, self._registry)
        self._workers = Workers(self._registry, RetryPolicy(tuple(retry_delays)), clock, workers)
        self._groups: dict[Batch[Publisher, Any, Any], GroupCommit[Publisher, Any, Any]] = {}
        self._wiring: Callable[[], object] | None = None

    def wire_later(self, wire: Callable[[], object]) -> None:
        """`wire()` subscribes the consumers when they are first needed: before the first
        event is published, or the subscriptions listed. A command that only reads never
        builds them, nor imports them (the command line answers in a fraction of a second;
        an event it publishes still gets one delivery row per subscriber)."""
        self._wiring = wire

    def _wire(self) -> None:
        if self._wiring is not None:
            wire, self._wiring = self._wiring, None
            wire()

    # ---- subscriptions --------------------------------------------------------------

    def subscribe(
        self,
        event_name: str,
        handler: Handler,
        *,
        name: str | None = None,
        batch: BatchHandler | None = None,
    ) -> None:
        """Register `handler` for `event_name`; `name` (default: the function's) is durable.
        `batch`, if given, does the same work for many deliveries in one go (bursts)."""
        self._registry.add(event_name, handler, name=name, batch=batch)

    def on(self, event_name: str, *, name: str | None = None) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.subscribe(event_name, handler, name=name)
            return handler

        return register

    @property
    def subscriptions(self) -> list[Subscription]:
        self._wire()
        return list(self._registry)

    # ---- publishing -----------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Publisher]:
        """`async with hub.transaction() as tx:` change state and `await tx.publish(e)`."""
        self._wire()
        async with in_transaction() as connection:
            publisher = Publisher(self._events, connection)
            yield publisher
        if self._dispatch:
            self._workers.queue_fresh(publisher.stored)

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

    @property
    def group_commits(self) -> int:
        """How many transactions the grouped calls have taken so far (tests, benchmarks)."""
        return sum(group.batches for group in self._groups.values())

    # ---- dispatching ----------------------------------------------------------------

    async def start(self) -> None:
        """Recover work interrupted by a crash, then deliver in the background."""
        if not self._dispatch:
            return
        self._wire()
        await deliveries.requeue_running()
        self._workers.start()
        await self.sweep()

    async def stop(self) -> None:
        await self._workers.stop()

    async def sweep(self) -> int:
        """Queue every pending delivery that is due; the scheduler calls this each second."""
        return await self._workers.queue_due()

    async def drain(self) -> None:
        """Wait until everything queued has been handled (tests, shutdown)."""
        await self._workers.drain()
