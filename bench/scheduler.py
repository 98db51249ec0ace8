"""Durable delays at scale: 100,000 pending scenario steps.

Prints the memory the process needs while they wait, the lateness of firing for the
steps that fall due during the observation window (they fire through the real waker:
APScheduler date jobs re-armed at the earliest due time), and the catch-up time after
a restart that finds 10,000 steps overdue.

    .venv/bin/python bench/scheduler.py
    .venv/bin/python bench/scheduler.py --pending 20000 --window 30 --overdue 2000
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/<name>.py` from anywhere: the project root comes first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import os
import time

from tortoise.expressions import F

from bench._setup import percentile, rss_mib, temp_database
from core.clock import SystemClock
from core.hub import SignalHub
from core.texts import Texts
from handlers.scenarios import CONDITIONS, WELCOME
from locales import load_catalogues
from models import LeadEntry, OutboxMessage, RunStatus, ScenarioRun
from scheduler import Waker
from scheduler.engine import ScenarioEngine

BATCH = 2000
FOLLOWUP = 600.0  # the welcome scenario's default delay


def make_engine(hub: SignalHub, settings, texts: Texts) -> ScenarioEngine:
    return ScenarioEngine(
        {"welcome": WELCOME},
        conditions=CONDITIONS,
        hub=hub,
        clock=SystemClock(),
        settings=settings,
        translate=texts,
    )


async def fill(pending: int, window: float, spread: float) -> dict[int, float]:
    """Leads at the follow-up wait; due times: the first `window` seconds densely, the
    rest spread over `spread` seconds. Returns run id → due time."""
    now = time.time()
    for start in range(0, pending, BATCH):
        n = min(BATCH, pending - start)
        await LeadEntry.bulk_create(
            [
                LeadEntry(
                    name=f"Lead {start + i}",
                    lead_source="web_form",
                    first_touch_at=int(now),
                    lead_created_at=int(now),
                    chat_id=10_000_000 + start + i,
                    updated_at=now,
                )
                for i in range(n)
            ]
        )
    lead_ids = await LeadEntry.all().order_by("id").values_list("id", flat=True)
    runs = []
    for i, lead_id in enumerate(lead_ids):
        # One step in fifty falls due inside the window; the rest later.
        offset = (
            3
            + (i % 50 == 0) * (i / pending) * window
            + (i % 50 != 0) * (window + i / pending * spread)
        )
        due = now + offset
        runs.append(
            ScenarioRun(
                scenario="welcome",
                lead_id=lead_id,
                status=RunStatus.WAITING,
                step=1,
                due_at=due,
                waiting_since=due - FOLLOWUP,
                started_at=now,
                updated_at=now,
            )
        )
    for start in range(0, len(runs), BATCH):
        await ScenarioRun.bulk_create(runs[start : start + BATCH])
    # Storing took a while: move every due time by that much, so that the first step
    # falls due 3 s from now and no lateness is the set-up's own.
    shift = time.time() - now
    await ScenarioRun.all().update(
        due_at=F("due_at") + shift, waiting_since=F("waiting_since") + shift
    )
    rows = await ScenarioRun.all().values_list("id", "due_at")
    return dict(rows)


async def main(pending: int, window: float, overdue: int) -> None:
    async with temp_database() as (url, settings):
        texts = Texts(load_catalogues(), "ru")
        base_rss = rss_mib()
        t0 = time.monotonic()
        due_at = await fill(pending, window, spread=7200)
        print(f"pending steps:        {pending} (stored in {time.monotonic() - t0:.1f} s)")
        hub = SignalHub(SystemClock(), dispatch=False)
        engine = make_engine(hub, settings, texts)
        waker = Waker(engine.tick, engine.next_due, SystemClock())
        engine.on_schedule = waker.schedule
        task = asyncio.create_task(waker.run())
        await asyncio.sleep(window + 3)
        task.cancel()
        rss = rss_mib()
        fired = await OutboxMessage.all().values_list("key", "created_at")
        lateness = [created - due_at[int(key.split(":")[1])] for key, created in fired]
        grown = rss - base_rss
        print(f"memory while waiting: {rss:.0f} MiB resident ({grown:+.0f} MiB for the steps)")
        if url.startswith("sqlite://"):
            size = os.path.getsize(url.removeprefix("sqlite://")) / 2**20
            print(f"database file:        {size:.0f} MiB")
        print(f"fired in {window:.0f} s:        {len(lateness)} steps")
        print(
            f"lateness:             p50 {percentile(lateness, 50) * 1000:.0f} ms, "
            f"p99 {percentile(lateness, 99) * 1000:.0f} ms, max {max(lateness) * 1000:.0f} ms"
        )

        # A restart that finds `overdue` steps past their time.
        now = time.time()
        overdue_ids = (
            await ScenarioRun.filter(status=RunStatus.WAITING)
            .order_by("id")
            .limit(overdue)
            .values_list("id", flat=True)
        )
        await ScenarioRun.filter(id__in=list(overdue_ids)).update(
            due_at=now - 60, waiting_since=now - 60 - FOLLOWUP
        )
        restarted = make_engine(hub, settings, texts)
        t0 = time.monotonic()
        await restarted.recover()
        caught_up = await restarted.tick()
        print(f"catch-up after restart: {caught_up} overdue steps in {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds to observe firing")
    parser.add_argument("--overdue", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.pending, args.window, args.overdue))
