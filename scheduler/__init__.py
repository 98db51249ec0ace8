"""APScheduler only wakes our own durable claimers; the due work itself lives in tables."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.hub import SignalHub


def create_scheduler(hub: SignalHub, *, sweep_seconds: float = 1.0) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    # A missed wake-up costs nothing: the next one finds the same due rows.
    scheduler.add_job(
        hub.sweep,
        "interval",
        seconds=sweep_seconds,
        id="hub_sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    return scheduler
