"""Readiness: is this process fit to take traffic, and if not, why (`GET /readyz`).

Each check reads what the database says (the durable queues are rows): the database
answers at all, every committed migration is applied, the hub's oldest undelivered event,
the outbox's backlog per priority and its oldest due message, the oldest overdue
scenario step, and when the bot last reached the Bot API. Any age beyond its limit in
the settings (`READY_*`) makes the process not ready, with the reason. The same figures
set the Prometheus gauges that describe the backlogs (`core/metrics.py`).
"""

from __future__ import annotations

import asyncio
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tortoise import Tortoise
from tortoise.functions import Count, Min

from core import metrics
from core.clock import Clock
from core.db import APP_LABEL, MIGRATIONS_MODULE
from core.settings import Settings
from models import (
    DeliveryStatus,
    EventDelivery,
    OutboxMessage,
    OutboxStatus,
    RunStatus,
    ScenarioRun,
)

DB_TIMEOUT_SECONDS = 3.0
UNDELIVERED = (DeliveryStatus.PENDING, DeliveryStatus.RUNNING)
WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)


@dataclass
class Readiness:
    ready: bool = True
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    def fail(self, reason: str) -> None:
        self.ready = False
        self.reasons.append(reason)

    def as_json(self) -> dict[str, Any]:
        return {"ready": self.ready, "reasons": self.reasons, **self.checks}


def committed_migrations() -> set[str]:
    package = __import__(MIGRATIONS_MODULE, fromlist=["__path__"])
    return {m.name for m in pkgutil.iter_modules(package.__path__) if m.name[:4].isdigit()}


async def _applied_migrations() -> set[str]:
    connection = Tortoise.get_connection("default")
    rows = await connection.execute_query_dict(
        f"SELECT name FROM tortoise_migrations WHERE app = '{APP_LABEL}'"  # noqa: S608 - ours
    )
    return {str(row["name"]) for row in rows}


async def check(
    settings: Settings,
    clock: Clock,
    *,
    bot_last_ok: Callable[[], float | None] | None = None,
    bot_polls: bool = True,
) -> Readiness:
    """Every readiness check; never raises (an unreachable database is a reason)."""
    result = Readiness()
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            await Tortoise.get_connection("default").execute_query("SELECT 1")
            await _database_checks(result, settings, clock)
    except Exception as exc:  # any failure to reach it is the answer itself
        result.checks["database"] = "unreachable"
        result.fail(f"database unreachable: {type(exc).__name__}")
    else:
        result.checks["database"] = "ok"
    _bot_check(result, settings, clock, bot_last_ok, bot_polls)
    return result


async def _database_checks(result: Readiness, settings: Settings, clock: Clock) -> None:
    now = clock.now()
    missing = sorted(committed_migrations() - await _applied_migrations())
    result.checks["migrations_pending"] = missing
    if missing:
        result.fail(f"migrations not applied: {', '.join(missing)} (run main.py migrate)")

    oldest = (
        await EventDelivery.filter(status__in=UNDELIVERED)
        .order_by("event_id")
        .limit(1)
        .values_list("event__created_at", flat=True)
    )
    hub_age = max(0.0, now - float(oldest[0])) if oldest else 0.0  # type: ignore[arg-type]
    result.checks["hub_oldest_undelivered_seconds"] = round(hub_age, 1)
    metrics.HUB_OLDEST_PENDING.set(hub_age)
    if hub_age > settings.seconds("ready_hub_lag"):
        result.fail(f"hub: an event has waited {hub_age:.0f}s for its consumers")

    backlog: dict[str, dict[str, float]] = {}
    rows = (
        await OutboxMessage.filter(status__in=WAITING)
        .group_by("priority")
        .annotate(n=Count("id"))
        .values_list("priority", "n")
    )
    due = (
        await OutboxMessage.filter(status=OutboxStatus.PENDING, not_before__lte=now)
        .group_by("priority")
        .annotate(oldest=Min("not_before"))
        .values_list("priority", "oldest")
    )
    oldest_due = {int(p): max(0.0, now - float(o)) for p, o in due if o is not None}
    for priority, count in rows:
        age = oldest_due.get(int(priority), 0.0)
        backlog[str(int(priority))] = {"messages": int(count), "oldest_due_seconds": round(age, 1)}
    for priority in ("0", "5", "9"):
        entry = backlog.get(priority, {"messages": 0, "oldest_due_seconds": 0.0})
        metrics.OUTBOX_BACKLOG.labels(priority).set(entry["messages"])
        metrics.OUTBOX_OLDEST_DUE.labels(priority).set(entry["oldest_due_seconds"])
    result.checks["outbox_backlog"] = backlog
    worst = max(oldest_due.values(), default=0.0)
    if worst > settings.seconds("ready_outbox_lag"):
        result.fail(f"outbox: a message due {worst:.0f}s ago is not sent")

    overdue = (
        await ScenarioRun.filter(status=RunStatus.WAITING, due_at__lte=now)
        .order_by("due_at")
        .limit(1)
        .values_list("due_at", flat=True)
    )
    late = max(0.0, now - float(overdue[0])) if overdue else 0.0  # type: ignore[arg-type]
    result.checks["scenario_oldest_overdue_seconds"] = round(late, 1)
    metrics.SCENARIO_OVERDUE.set(late)
    if late > settings.seconds("ready_scenario_lag"):
        result.fail(f"scheduler: a scenario step is {late:.0f}s overdue")


def _bot_check(
    result: Readiness,
    settings: Settings,
    clock: Clock,
    bot_last_ok: Callable[[], float | None] | None,
    bot_polls: bool,
) -> None:
    if bot_last_ok is None:
        return  # a process without a bot (tests of the web app alone)
    last = bot_last_ok()
    if last is None:
        result.checks["bot_last_api_success_seconds"] = None
        result.fail("bot: no successful Bot API call yet")
        return
    silence = max(0.0, clock.now() - last)
    result.checks["bot_last_api_success_seconds"] = round(silence, 1)
    # Polling calls getUpdates every few seconds; a webhook bot may rightly be quiet.
    if bot_polls and silence > settings.seconds("ready_bot_silence"):
        result.fail(f"bot: no successful Bot API call for {silence:.0f}s")
