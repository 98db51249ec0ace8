"""The hub's batched consumers: a burst of leads is handled completely and exactly once,
even when the process is killed (SIGKILL) in the middle of a batch (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import main
from core.clock import FakeClock
from core.contact import RawContact, normalise
from core.hub import SignalHub
from core.ingest import core_ingest_event
from core.settings import Settings
from models import DeliveryStatus, EventDelivery, LeadEntry, OutboxMessage, ScenarioRun

ROOT = Path(__file__).resolve().parent.parent
LEADS = 1500
ADMIN = 777

WORKER = """
import asyncio, sys
sys.path.insert(0, {root!r})
import main
import delivery.callbacks  # the service has aiogram loaded before its hub starts
from core import db
from tortoise.functions import Count

from core.clock import FakeClock
from core.hub import SignalHub
from core.settings import load_settings

async def run():
    settings = load_settings(database_url={url!r}, secret_key="k" * 40, admin_ids={admin!r})
    await db.open_database(settings.database_url)
    clock = FakeClock({now!r})  # the test's time: the backlog is due
    hub = SignalHub(clock)
    main.wire(settings, clock, hub)
    await hub.start()
    print("started", flush=True)
    await asyncio.sleep(600)

asyncio.run(run())
"""


async def burst(hub: SignalHub, clock: FakeClock) -> None:
    numbers = itertools.count(1000000)

    async def one() -> None:
        raw = RawContact(source="web_form", name="Анна", phone=f"+7916{next(numbers)}")
        await core_ingest_event(hub, clock, normalise(raw, region="RU", require_phone=False))

    for _ in range(LEADS // 100):
        await asyncio.gather(*(one() for _ in range(100)))


async def counts() -> tuple[int, int, int]:
    notices = await OutboxMessage.filter(chat_id=ADMIN).count()
    unfinished = await EventDelivery.filter(
        status__in=(DeliveryStatus.PENDING, DeliveryStatus.RUNNING)
    ).count()
    runs = await ScenarioRun.all().count()
    return notices, unfinished, runs


async def test_a_kill_in_the_middle_of_a_batch_loses_and_repeats_nothing(
    settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"admin_ids": (ADMIN,)})
    stored_only = SignalHub(clock, dispatch=False)
    main.wire(settings, clock, stored_only)
    await burst(stored_only, clock)  # a backlog: every lead's deliveries pending

    script = WORKER.format(
        root=str(ROOT), url=settings.database_url, admin=str(ADMIN), now=clock.now()
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ,
    )
    try:
        for _ in range(3000):  # until the worker is part-way through
            notices, unfinished, _ = await counts()
            if notices and unfinished:
                break
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    notices, unfinished, _ = await counts()
    err = proc.stderr.read().decode() if proc.stderr else ""
    err += proc.stdout.read().decode() if proc.stdout else ""
    assert 0 < notices < LEADS, f"the kill came before or after the work: {err[-2000:]}"
    assert unfinished > 0

    survivor = SignalHub(clock)  # the next start: claimed work is pending again
    main.wire(settings, clock, survivor)
    await survivor.start()
    try:
        for _ in range(600):
            await survivor.sweep()
            await survivor.drain()
            if (await counts())[1] == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await survivor.stop()

    notices, unfinished, runs = await counts()
    assert unfinished == 0
    leads = await LeadEntry.all().count()
    assert leads == LEADS
    assert notices == LEADS  # every lead's notice, once
    per_lead = await OutboxMessage.filter(chat_id=ADMIN).values_list("lead_id", flat=True)
    assert len(set(per_lead)) == LEADS
    assert runs == LEADS  # every lead's welcome run, once
    assert not await EventDelivery.filter(status=DeliveryStatus.FAILED).exists()
