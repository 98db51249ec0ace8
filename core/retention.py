"""Retention: finished bookkeeping older than `RETENTION` is pruned, a little at a time.

What goes, and why it may:
- outbox rows that are finished (sent, failed, unreachable, cancelled): their key made a
  retry idempotent, and every retry is long over (RETENTION is at least 7 days; retries
  of the hub and the sender end within hours);
- hub deliveries that are finished (done, failed): the same;
- deep-link tokens (`lead_touch.start_token`) expired long ago: replaced by `~<id>`,
  which no link can carry; the touch (what the person brought) stays;
- the de-dup keys of referral visits (`ref_visit.visitor`, `.period`): set to NULL once
  their window is over; the visit itself stays counted;
- the event log only when `EVENT_LOG_RETENTION` is set (it is the audit), and never an
  event whose delivery is still pending.

Rows are found through an index on their time column and handled in batches of
`BATCH` ids, each its own short statement, with a pause between them: the form's
writers (one SQLite connection per process) wait at most one batch
(`bench/retention.py` measures it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from tortoise.models import Model

from core import metrics
from core.clock import Clock
from core.settings import Settings
from models import (
    DeliveryStatus,
    EventDelivery,
    EventRecord,
    LeadTouch,
    OutboxMessage,
    OutboxStatus,
    RefVisit,
)

log = logging.getLogger("core.retention")

BATCH = 500
SPENT = "~"  # a pruned deep-link token is `~<touch id>`
PAUSE_SECONDS = 0.02
FINISHED_OUTBOX = (
    OutboxStatus.SENT,
    OutboxStatus.FAILED,
    OutboxStatus.UNREACHABLE,
    OutboxStatus.CANCELLED,
)
FINISHED_DELIVERIES = (DeliveryStatus.DONE, DeliveryStatus.FAILED)
UNFINISHED_DELIVERIES = (DeliveryStatus.PENDING, DeliveryStatus.RUNNING)


@dataclass
class Pruned:
    outbox: int = 0
    deliveries: int = 0
    tokens: int = 0
    visits: int = 0
    events: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


Act = Callable[[list[int]], Awaitable[int]]


async def _in_batches(
    model: type[Model],
    time_field: str,
    cutoff: float,
    act: Act,
    *,
    batch: int,
    pause: float,
    keep: Callable[[dict[str, Any]], bool] = lambda row: True,
    fields: tuple[str, ...] = (),
) -> int:
    """`act` on the ids of `model`'s rows older than `cutoff` for which `keep(row)`, in
    batches.

    The newest old row (by the time column's index, one step) bounds an id range that is
    walked upwards by primary key alone, `batch` rows a step, the conditions checked
    here: a planner that chose the time index instead would read every old row for each
    batch (it did: a million rows took minutes).
    """
    newest = (
        await model.filter(**{f"{time_field}__lt": cutoff})
        .order_by(f"-{time_field}")
        .limit(64)
        .values_list("id", flat=True)
    )
    if not newest:
        return 0
    bound = max(int(i) for i in newest)  # type: ignore[call-overload]
    last, total = 0, 0
    while last < bound:
        began = time.perf_counter()
        rows = (
            await model.filter(id__gt=last, id__lte=bound)
            .order_by("id")
            .limit(batch)
            .values("id", time_field, *fields)
        )
        if not rows:
            return total
        last = int(rows[-1]["id"])
        ids = [
            int(row["id"])
            for row in rows
            if row[time_field] is not None and row[time_field] < cutoff and keep(row)
        ]
        if ids:
            total += await act(ids)
        # Let the form and the consumers in: at least as long as the batch held the
        # database, so pruning takes at most half of it however slow the disk is.
        await asyncio.sleep(max(pause, time.perf_counter() - began) if pause else 0)
    return total


async def prune(
    clock: Clock,
    *,
    retention: float,
    token_ttl: float,
    visit_window: float,
    event_log_retention: float | None = None,
    batch: int = BATCH,
    pause: float = PAUSE_SECONDS,
) -> Pruned:
    """Prune everything older than `retention` seconds (see the module's docstring)."""
    now = clock.now()
    cutoff = now - retention
    opts: dict[str, Any] = {"batch": batch, "pause": pause}
    pruned = Pruned()

    async def delete_outbox(ids: list[int]) -> int:
        return await OutboxMessage.filter(id__in=ids).delete()

    pruned.outbox = await _in_batches(
        OutboxMessage,
        "created_at",
        cutoff,
        delete_outbox,
        fields=("status",),
        keep=lambda row: row["status"] in FINISHED_OUTBOX,
        **opts,
    )

    async def delete_deliveries(ids: list[int]) -> int:
        return await EventDelivery.filter(id__in=ids).delete()

    pruned.deliveries = await _in_batches(
        EventDelivery,
        "done_at",
        cutoff,
        delete_deliveries,
        fields=("status",),
        keep=lambda row: row["status"] in FINISHED_DELIVERIES,
        **opts,
    )

    async def forget_tokens(ids: list[int]) -> int:
        # `~<id>`: unique, and `~` is in no token's alphabet: no link opens it any more.
        connection = LeadTouch._meta.db
        if connection.capabilities.dialect == "postgres":
            marks = ",".join(f"${i + 1}" for i in range(len(ids)))
        else:
            marks = ",".join("?" * len(ids))
        sql = (
            f'UPDATE "{LeadTouch._meta.db_table}" SET "start_token" = \'{SPENT}\' || '  # noqa: S608
            f'CAST("id" AS VARCHAR(20)) WHERE "id" IN ({marks})'
        )
        count, _ = await connection.execute_query(sql, list(ids))
        return int(count)

    pruned.tokens = await _in_batches(
        LeadTouch,
        "at",
        now - max(retention, token_ttl),
        forget_tokens,
        fields=("start_token",),
        keep=lambda row: not row["start_token"].startswith(SPENT),
        **opts,
    )

    async def forget_visitors(ids: list[int]) -> int:
        return await RefVisit.filter(id__in=ids).update(visitor=None, period=None)

    pruned.visits = await _in_batches(
        RefVisit,
        "at",
        now - max(retention, visit_window),
        forget_visitors,
        fields=("visitor",),
        keep=lambda row: row["visitor"] is not None,
        **opts,
    )

    if event_log_retention is not None:

        async def delete_events(ids: list[int]) -> int:
            busy = await EventDelivery.filter(
                event_id__in=ids, status__in=UNFINISHED_DELIVERIES
            ).values_list("event_id", flat=True)
            keep = {int(i) for i in busy}  # type: ignore[call-overload]
            gone = [i for i in ids if i not in keep]
            # Their finished deliveries go with them (ON DELETE CASCADE).
            return await EventRecord.filter(id__in=gone).delete() if gone else 0

        pruned.events = await _in_batches(
            EventRecord, "created_at", now - event_log_retention, delete_events, **opts
        )
    return pruned


async def run_retention(clock: Clock, settings: Settings) -> Pruned:
    """The daily job: prune with the operator's settings, and say what went."""
    pruned = await prune(
        clock,
        retention=settings.retention_seconds,
        token_ttl=settings.start_token_ttl_seconds,
        visit_window=settings.ref_visit_window_seconds,
        event_log_retention=settings.event_log_retention_seconds,
    )
    for kind, count in pruned.as_dict().items():
        metrics.RETENTION_PRUNED.labels(kind).inc(count)
    log.info("retention: pruned %s", pruned.as_dict(), extra={"event": "retention_pruned"})
    return pruned
