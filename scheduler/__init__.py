"""The scenario engine and its wakers; imports delivery/, core/ and below.

Waking the durable claimers: the due work itself lives in tables. APScheduler's own job
stores hold nothing that must survive a restart: a one-off job missed by a restart is
dropped (`misfire_grace_time`), and its stores cannot be shared between processes. The due
times are rows (`scenario_run`, `event_delivery`, `outbox`); APScheduler runs the periodic
sweeps, and the `Waker` sleeps exactly until the earliest due step (re-armed when an earlier
one appears) — a date job re-armed from inside its own run would be skipped by
APScheduler's one-instance rule, and late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.clock import Clock
from core.hub import SignalHub

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 5.0  # a safety net: rows written by another process are found too


class Waker:
    """Runs `tick` whenever the earliest known due time arrives."""

    def __init__(
        self,
        tick: Callable[[], Awaitable[object]],
        next_due: Callable[[], Awaitable[float | None]],
        clock: Clock,
    ) -> None:
        self._tick = tick
        self._next_due = next_due
        self._clock = clock
        self._armed_for = math.inf
        self._changed = asyncio.Event()

    def schedule(self, due_at: float) -> None:
        """Make sure `tick` runs no later than `due_at` (unix seconds)."""
        if due_at < self._armed_for:
            self._armed_for = due_at
            self._changed.set()

    async def run(self) -> None:
        while True:
            try:
                await self._tick()
                due = await self._next_due()
            except Exception:  # keep waking; the failing piece logs its own details
                log.exception("waker: tick failed")
                due = None
            self._armed_for = math.inf if due is None else due
            self._changed.clear()
            delay = MAX_SLEEP_SECONDS if due is None else due - self._clock.now()
            delay = min(max(delay, 0.0), MAX_SLEEP_SECONDS)
            if delay > 0:
                # asyncio.timeout: wait_for can swallow a cancellation on Python 3.11.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._changed.wait()


BROADCAST_PROGRESS_SECONDS = 3.0


def create_scheduler(
    hub: SignalHub,
    *,
    broadcast_progress: Callable[[], Awaitable[object]] | None = None,
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    # A missed wake-up costs nothing: the next one finds the same due rows.
    scheduler.add_job(
        hub.sweep,
        "interval",
        seconds=1.0,
        id="hub_sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    if broadcast_progress is not None:
        # The progress messages of running broadcasts (their state is in the tables).
        scheduler.add_job(
            broadcast_progress,
            "interval",
            seconds=BROADCAST_PROGRESS_SECONDS,
            id="broadcast_progress",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    return scheduler


DAILY_SECONDS = 86400.0
FIRST_DAILY_RUN_SECONDS = 300.0


def schedule_daily(
    scheduler: AsyncIOScheduler,
    job: Callable[[], Awaitable[object]],
    *,
    job_id: str,
    first_in: float | None = None,
) -> None:
    """Run `job` every day, the first time `first_in` seconds after start: a service
    restarted more often than daily still runs it (retention; its work is idempotent)."""
    from datetime import UTC, datetime, timedelta

    first_in = FIRST_DAILY_RUN_SECONDS if first_in is None else first_in

    scheduler.add_job(
        job,
        "interval",
        seconds=DAILY_SECONDS,
        next_run_time=datetime.now(UTC) + timedelta(seconds=first_in),
        id=job_id,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
