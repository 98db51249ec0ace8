"""Durable delays at scale: 100,000 pending scenario steps.

Prints the memory the process needs while they wait, the lateness of firing for the
steps that fall due during the observation window (they fire through the real waker:
APScheduler date jobs re-armed at the earliest due time), and the catch-up time after
a restart that finds 10,000 steps overdue.

    .venv/bin/python bench/scheduler.py
    .venv/bin/python bench/scheduler.py --pending 20000 --window 30 --overdue 2000

`--auto`: a day of AUTO webinars — 1,000 sessions with 50 registrants each — through the
product's own pieces: registrations through `register_many` and the hub's consumers
(each starts its reminder run), the scheduler's jobs as `create_scheduler` makes them
(the hub's sweep), `AutoSessions` under its own waker as `main.py` runs it (woken at each
transition, and at least every second), the scenario engine's waker, and the
attendance classification the stop triggers. Time is compressed by spreading the day's
sessions over the observation window (`--auto-window`, 300 s by default: 288 times a
real day, so the load per second is far above a real day's); each session lasts one
minute and has two reminders, 60 s and 10 s before its start (the shortest the rules
allow; the "we have started" step comes five minutes in, after it ended, and sends
nothing). Prints the lateness of the transitions (live at the start, finished at the
end), of the reminders (queued in the outbox after their due time; Telegram's own pace
is `bench/reminders.py`'s) and of the classifications (stored after the planned end).

    .venv/bin/python bench/scheduler.py --auto
    .venv/bin/python bench/scheduler.py --auto --auto-sessions 200 --auto-window 120
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


# ---- --auto: a day of AUTO sessions -------------------------------------------------

AUTO_REGISTRANTS = 50
AUTO_DURATION_MIN = 1
AUTO_OFFSETS = (60, 10)  # the reminders, seconds before the start
AUTO_LEAD = 120.0  # seconds from the end of the set-up to the first session's start
FAR = 30 * 86_400.0  # where the sessions wait while the set-up runs


def _send_step(n: int) -> int:
    """The step index of reminder `n`'s Send in WEBINAR_REMINDERS (1-based)."""
    from handlers.webinar_scenarios import WEBINAR_REMINDERS

    ids = [step.id for step in WEBINAR_REMINDERS.steps]
    return ids.index(f"send_{n}")


def _report(name: str, lateness: list[float], expected: int) -> None:
    if not lateness:
        print(f"{name:16} none of {expected}")
        return
    print(
        f"{name:16} {len(lateness)} of {expected}: p50 {percentile(lateness, 50) * 1000:.0f} ms, "
        f"p99 {percentile(lateness, 99) * 1000:.0f} ms, max {max(lateness) * 1000:.0f} ms"
    )


async def auto(sessions: int, window: float, registrants: int, due: int) -> None:
    import main as product
    from core.bulk import insert_rows
    from core.webinars import Registration, register_many
    from handlers.webinar_scenarios import WEBINAR_REMINDERS
    from models import (
        AutoSeries,
        StreamType,
        Webinar,
        WebinarAttendance,
        WebinarKind,
    )
    from scheduler import create_scheduler
    from scheduler.auto import AutoSessions

    async with temp_database() as (_, settings):
        clock = SystemClock()
        hub = SignalHub(clock)
        _, _, engine = product.wire(settings, clock, hub)
        await hub.start()
        t0 = time.monotonic()
        now = clock.now()
        series = await AutoSeries.create(  # its rule plans nothing: the sessions are ours
            slug="bench",
            title="Автовебинар",
            tz="UTC",
            schedule={"kind": "dates", "dates": []},
            recording_url="https://cdn.example.com/rec.m3u8",
            recording_duration_min=AUTO_DURATION_MIN,
            created_at=now,
            updated_at=now,
        )
        async with hub.transaction() as tx:
            rows = [
                {
                    "slug": f"bench-{i}",
                    "title": "Автовебинар",
                    "kind": WebinarKind.AUTO,
                    "starts_at": now + FAR + i,
                    "duration_min": AUTO_DURATION_MIN,
                    "tz": "UTC",
                    "stream_type": StreamType.OBS,
                    "stream_url": "https://cdn.example.com/rec.m3u8",
                    "recording_url": "https://cdn.example.com/rec.m3u8",
                    "reminder_offsets": list(AUTO_OFFSETS),
                    "series_id": series.id,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(sessions)
            ]
            webinar_ids = await insert_rows(tx.connection, Webinar, rows)
        for start in range(0, sessions * registrants, BATCH):
            n = min(BATCH, sessions * registrants - start)
            async with hub.transaction() as tx:
                leads = [
                    {
                        "name": f"Lead {start + i}",
                        "lead_source": "web_form",
                        "first_touch_at": int(now),
                        "lead_created_at": int(now),
                        "chat_id": 10_000_000 + start + i,
                        "updated_at": now,
                    }
                    for i in range(n)
                ]
                lead_ids = await insert_rows(tx.connection, LeadEntry, leads)
                items = [
                    Registration(webinar_ids[(start + i) // registrants], lead_id, "web_form")
                    for i, lead_id in enumerate(lead_ids)
                ]
                await register_many(tx, clock, items)
        await hub.drain()  # every registration's reminder run started …
        await engine.tick()  # … and parked at its first reminder
        print(
            f"set-up:           {sessions} sessions, {sessions * registrants} registrations "
            f"and their reminder runs in {time.monotonic() - t0:.0f} s"
        )

        # The window: session i < due starts at first + i * window / due; the rest wait
        # beyond it (a day's sessions planned, the database as large).
        first = clock.now() + AUTO_LEAD
        step = window / due
        later = first + window + 3600
        # The fraction of a second (golden-ratio steps) spreads the starts over every phase
        # of the scheduler's 1-s tick, as real starts are; whole-second steps would all
        # meet the tick at one phase and hide its share of the lateness.
        starts = {
            wid: first + i * step + (i * 0.6180339887) % 1.0 if i < due else later + i
            for i, wid in enumerate(webinar_ids)
        }
        for wid, at in starts.items():
            await Webinar.filter(id=wid).update(starts_at=at)
            await engine.wake_subject(WEBINAR_REMINDERS.name, str(wid))
        await engine.tick()  # the waits move to the new starts (as a reschedule does)
        lead_time = first - clock.now()
        print(f"first start in:   {lead_time:.0f} s (moving the starts took the rest)")
        rate = due / window * 86_400
        print(f"in the window:    {due} sessions in {window:.0f} s (as {rate:.0f} a day)")

        waker = Waker(engine.tick, engine.next_due, clock)
        engine.on_schedule = waker.schedule
        jobs = create_scheduler(hub)
        jobs.start()
        task = asyncio.create_task(waker.run())
        auto = AutoSessions(hub, clock)  # as `main.py` runs it: woken at each transition
        auto_task = asyncio.create_task(Waker(auto.tick, auto.next_due, clock).run())
        end = first + window + AUTO_DURATION_MIN * 60
        await asyncio.sleep(end - clock.now() + 10)
        task.cancel()
        auto_task.cancel()
        jobs.shutdown(wait=False)
        await hub.drain()
        await hub.stop()

        got = await Webinar.filter(id__in=webinar_ids).values_list("id", "started_at", "ended_at")
        duration = AUTO_DURATION_MIN * 60
        live = [s - starts[w] for w, s, _ in got if s is not None]
        done = [e - starts[w] - duration for w, _, e in got if e is not None]
        steps = {_send_step(n): offset for n, offset in enumerate(AUTO_OFFSETS, 1)}
        run_subject = dict(
            await ScenarioRun.filter(scenario=WEBINAR_REMINDERS.name).values_list("id", "subject")
        )
        reminders = []
        for key, created in await OutboxMessage.filter(key__startswith="scenario:").values_list(
            "key", "created_at"
        ):
            _, run_id, step_index = key.split(":")[:3]
            offset = steps.get(int(step_index))
            subject = run_subject.get(int(run_id))
            if offset is not None and subject is not None:
                reminders.append(created - (starts[int(subject)] - offset))
        classified = [
            at - starts[w] - duration
            for w, at in await WebinarAttendance.filter(webinar_id__in=webinar_ids).values_list(
                "webinar_id", "classified_at"
            )
        ]
        _report("live on time:", live, due)
        _report("finished on time:", done, due)
        _report("reminders:", reminders, due * registrants * len(AUTO_OFFSETS))
        _report("classifications:", classified, due * registrants)
        every = live + done + reminders + classified
        print(f"p99 of all:       {percentile(every, 99) * 1000:.0f} ms (goal: under 1,000 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds to observe firing")
    parser.add_argument("--overdue", type=int, default=10_000)
    parser.add_argument("--auto", action="store_true", help="a day of AUTO sessions instead")
    parser.add_argument("--auto-sessions", type=int, default=1000)
    parser.add_argument("--auto-window", type=float, default=300.0, help="seconds they start in")
    parser.add_argument("--auto-registrants", type=int, default=AUTO_REGISTRANTS)
    parser.add_argument(
        "--auto-due", type=int, default=0, help="of them, start in the window (default: all)"
    )
    args = parser.parse_args()
    if args.auto:
        due = min(args.auto_due or args.auto_sessions, args.auto_sessions)
        asyncio.run(auto(args.auto_sessions, args.auto_window, args.auto_registrants, due))
    else:
        asyncio.run(main(args.pending, args.window, args.overdue))
