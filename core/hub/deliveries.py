"""Every query of the `event_delivery` table: add, claim, finish, retry, recover.

A delivery is one subscriber's work on one event. It is claimed by moving it from
`pending` to `running` in one UPDATE (so two workers never run it twice), finished as
`done` or `failed`, or put back to `pending` with the time of its next attempt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from tortoise.backends.base.client import BaseDBAsyncClient

from core.bulk import insert_rows
from models import DeliveryStatus, EventDelivery

SWEEP_LIMIT = 10_000  # a backlog after a restart is queued in a few sweeps


async def add(connection: BaseDBAsyncClient, rows: Sequence[Mapping[str, Any]]) -> None:
    """One pending row per (event, subscriber), in the publishing transaction."""
    await insert_rows(connection, EventDelivery, rows, returning_ids=False)


async def requeue_running() -> None:
    """At start: work a dead process had claimed is pending again."""
    await EventDelivery.filter(status=DeliveryStatus.RUNNING).update(status=DeliveryStatus.PENDING)


async def due(now: float, limit: int = SWEEP_LIMIT) -> list[tuple[int, int]]:
    """(delivery id, event id) of pending deliveries due at `now`, oldest first."""
    return cast(
        "list[tuple[int, int]]",
        await EventDelivery.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("id")
        .limit(limit)
        .values_list("id", "event_id"),
    )


class Claimed(NamedTuple):
    """A delivery this process has just claimed (`running`)."""

    id: int
    event_id: int
    subscriber: str
    attempts: int  # this attempt included


async def claim_of_events(event_ids: Sequence[int]) -> list[Claimed]:
    """Take the pending deliveries of these (just published) events in one statement."""
    return await _claim("event_id", event_ids)


async def claim_many(delivery_ids: Sequence[int]) -> list[Claimed]:
    """Take many pending deliveries in one statement (another process may have taken
    some: RETURNING says exactly which are ours)."""
    return await _claim("id", delivery_ids)


async def _claim(column: str, ids: Sequence[int]) -> list[Claimed]:
    """Pending → running where `column` is one of `ids`; what was claimed, in id order."""
    if not ids:
        return []
    connection = EventDelivery._meta.db
    table = EventDelivery._meta.db_table
    if connection.capabilities.dialect == "postgres":
        marks = ",".join(f"${i + 3}" for i in range(len(ids)))
        first, second = "$1", "$2"
    else:
        marks = ",".join("?" * len(ids))
        first = second = "?"
    # Only our table's and column's names and placeholders: the values are bound.
    sql = (
        f'UPDATE "{table}" SET "status" = {first}, "attempts" = "attempts" + 1 '  # noqa: S608
        f'WHERE "status" = {second} AND "{column}" IN ({marks}) '
        'RETURNING "id", "event_id", "subscriber", "attempts"'
    )
    values = [DeliveryStatus.RUNNING.value, DeliveryStatus.PENDING.value, *ids]
    # execute_query_dict: Tortoise's execute_query drops an UPDATE's rows on PostgreSQL.
    rows = await connection.execute_query_dict(sql, values)
    return sorted(
        Claimed(int(r["id"]), int(r["event_id"]), str(r["subscriber"]), int(r["attempts"]))
        for r in rows
    )


async def claimed_rows(delivery_ids: Sequence[int]) -> list[EventDelivery]:
    """Claimed deliveries with their stored events, in id order (one query)."""
    return await (
        EventDelivery.filter(id__in=list(delivery_ids)).order_by("id").select_related("event")
    )


async def mark_done(delivery_ids: Sequence[int], now: float) -> None:
    await EventDelivery.filter(id__in=delivery_ids).update(
        status=DeliveryStatus.DONE, done_at=now, last_error=None
    )


async def finish(delivery_id: int, status: DeliveryStatus, error: str | None, now: float) -> None:
    await EventDelivery.filter(id=delivery_id).update(status=status, done_at=now, last_error=error)


async def retry_at(delivery_id: int, when: float, error: str) -> None:
    """Pending again, due at `when`, with the error that made it fail."""
    await EventDelivery.filter(id=delivery_id).update(
        status=DeliveryStatus.PENDING, next_attempt_at=when, last_error=error[:2000]
    )
