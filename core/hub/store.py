"""Storing events: the `event_log` row and its delivery rows, inside the caller's transaction.

`Publisher` is what `hub.transaction()` hands out: it publishes through the transaction
it was opened with, and remembers which events have subscribers, so the hub can dispatch
them once the transaction has committed (and never when it rolled back).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.bulk import insert_rows
from core.clock import Clock
from core.events import Event, spec_of
from core.hub import deliveries
from core.hub.registry import Registry
from models import EventRecord

log = logging.getLogger("core.events")
# Every submission's own event: its consequences (core_lead_created…) are the news.
QUIET_EVENTS = frozenset({"core_ingest_event"})


class EventStore:
    def __init__(self, clock: Clock, registry: Registry) -> None:
        self._clock = clock
        self._registry = registry

    async def store(
        self, events: Sequence[Event], connection: BaseDBAsyncClient
    ) -> tuple[list[int], list[tuple[int, Event]]]:
        """Store `events` and one delivery row per subscriber. Returns the events' ids,
        in order, and the (id, event) pairs that have subscribers to dispatch to."""
        # Two statements however many events (`core/bulk.py`): this runs on every ingest.
        now = self._clock.now()
        rows: list[dict[str, Any]] = []
        for event in events:
            spec_of(event.event_name)
            payload = event.payload()
            rows.append(
                {
                    "name": event.event_name,
                    "payload": payload,
                    "lead_id": payload.get("lead_id"),
                    "webinar_id": payload.get("webinar_id"),
                    "user_id": payload.get("user_id"),
                    "created_at": now,
                }
            )
        ids = await insert_rows(connection, EventRecord, rows)
        for event_id, row in zip(ids, rows, strict=True):
            # One line per event (ids only: payloads may hold personal data). Stored is
            # not yet committed: a rolled-back transaction's events are logged too, rarely.
            log.log(
                logging.DEBUG if row["name"] in QUIET_EVENTS else logging.INFO,
                "event %s #%s lead %s",
                row["name"],
                event_id,
                row["lead_id"],
                extra={"event": row["name"], "event_id": event_id, "lead_id": row["lead_id"]},
            )
        to_deliver: list[dict[str, Any]] = []
        dispatch: list[tuple[int, Event]] = []
        for event_id, event in zip(ids, events, strict=True):
            subs = self._registry.of(event.event_name)
            if subs:
                to_deliver += [
                    {"event_id": event_id, "subscriber": s.name, "next_attempt_at": now}
                    for s in subs
                ]
                dispatch.append((event_id, event))
        if to_deliver:
            await deliveries.add(connection, to_deliver)
        return ids, dispatch


class Publisher:
    """Publishes inside one database transaction; dispatch waits for its commit."""

    def __init__(self, store: EventStore, connection: BaseDBAsyncClient) -> None:
        self._store = store
        self.connection = connection
        self.stored: list[tuple[int, Event]] = []

    async def publish(self, event: Event) -> int:
        return (await self.publish_many([event]))[0]

    async def publish_many(self, events: Sequence[Event]) -> list[int]:
        """Store several events at once (fewer statements); their ids, in order."""
        ids, dispatch = await self._store.store(events, self.connection)
        self.stored += dispatch
        return ids
