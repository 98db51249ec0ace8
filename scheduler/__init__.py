"""APScheduler only wakes our own durable claimers; the due work itself lives in tables.

APScheduler's own job stores are not used for anything that must survive a restart: a
one-off job missed by a restart would be dropped (`misfire_grace_time`), and its stores
cannot be shared between processes. Instead the due times are rows (`scenario_run`,
`event_delivery`, `outbox`) and the jobs here just say "look now".
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.hub import SignalHub
from scheduler.engine import ScenarioEngine

SAFETY_SWEEP_SECONDS = 5.0


class Waker:
    """Calls `tick` at the earliest due time it has been told of, then re-arms itself."""

    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        tick: Callable[[], Awaitable[object]],
        next_due: Callable[[], Awaitable[float | None]],
        job_id: str,
    ) -> None:
        self._scheduler = scheduler
        self._tick = tick
        self._next_due = next_due
        self._job_id = job_id
        self._armed_for = math.inf

    def schedule(self, due_at: float) -> None:
        """Make sure `tick` runs no later than `due_at` (unix seconds)."""
        if due_at >= self._armed_for:
            return
        self._armed_for = due_at
        self._scheduler.add_job(
            self.fire,
            "date",
            run_date=datetime.fromtimestamp(due_at, UTC),
            id=self._job_id,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def fire(self) -> None:
        self._armed_for = math.inf
        await self._tick()
        due = await self._next_due()
        if due is not None:
            self.schedule(due)


def create_scheduler(hub: SignalHub, engine: ScenarioEngine) -> tuple[AsyncIOScheduler, Waker]:
    scheduler = AsyncIOScheduler(timezone="UTC")
    waker = Waker(scheduler, engine.tick, engine.next_due, job_id="scenario_wake")
    every = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    # A missed wake-up costs nothing: the next one finds the same due rows.
    scheduler.add_job(hub.sweep, "interval", seconds=1.0, id="hub_sweep", **every)
    scheduler.add_job(
        waker.fire, "interval", seconds=SAFETY_SWEEP_SECONDS, id="scenario_sweep", **every
    )
    return scheduler, waker
