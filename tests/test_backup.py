"""`main.py backup` and `main.py restore`: a consistent copy under write load, and a
restore that refuses to overwrite data without --force (SQLite and PostgreSQL)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
from pathlib import Path

import pytest
from tortoise import Tortoise

from cli import backup as backup_cli
from core import backup, db
from core.clock import FakeClock
from core.contact import RawContact, normalise
from core.hub import SignalHub
from core.ingest import core_ingest_event
from core.settings import Settings
from models import EventRecord, LeadEntry

numbers = itertools.count(1000000)


async def ingest_until(stop: asyncio.Event, hub: SignalHub, clock: FakeClock) -> int:
    """The form's writes, one lead after another, until told to stop."""
    made = 0
    while not stop.is_set():
        raw = RawContact(source="web_form", name="Анна", phone=f"+7916{next(numbers)}")
        await core_ingest_event(hub, clock, normalise(raw, region="RU", require_phone=False))
        made += 1
    return made


async def snapshot() -> tuple[set[int], set[int]]:
    leads = await LeadEntry.all().values_list("id", flat=True)
    events = await EventRecord.all().values_list("id", flat=True)
    return set(leads), set(events)  # type: ignore[arg-type]


async def test_a_backup_under_write_load_restores_everything_acknowledged_before_it(
    settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    hub = SignalHub(clock, dispatch=False)
    stop = asyncio.Event()
    writer = asyncio.create_task(ingest_until(stop, hub, clock))
    while await LeadEntry.all().count() < 30:
        await asyncio.sleep(0.01)
    acknowledged_leads, acknowledged_events = await snapshot()  # answered before the backup
    out = tmp_path / "backup.file"
    url = settings.database_url
    if backup.is_sqlite(url):
        await asyncio.to_thread(backup.backup_sqlite, url, out)
    else:
        await asyncio.to_thread(backup.run_pg, backup.pg_dump_command(url, out), url)
    await asyncio.sleep(0.05)  # the writer goes on after the copy, too
    stop.set()
    assert await writer > 30
    written_after = len(await LeadEntry.all()) - len(acknowledged_leads)
    assert written_after > 0

    if backup.is_sqlite(url):
        restored_url = f"sqlite://{tmp_path / 'restored.sqlite3'}"
        await asyncio.to_thread(backup.restore_sqlite, out, restored_url, force=False)
    else:  # the same schema, replaced: everything written since the backup goes
        restored_url = url
        await Tortoise.close_connections()
        await asyncio.to_thread(backup.run_pg, backup.pg_restore_command(url, out), url)
    await Tortoise.close_connections()
    await db.open_database(restored_url)
    leads, events = await snapshot()
    assert acknowledged_leads <= leads
    assert acknowledged_events <= events
    # A consistent instant: every restored lead has its core_lead_created event.
    created = await EventRecord.filter(name="core_lead_created").count()
    assert created == len(leads)


def namespace(**values: object) -> argparse.Namespace:
    return argparse.Namespace(**values)


async def test_restore_refuses_a_database_with_data_unless_forced(
    settings: Settings, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = SignalHub(clock, dispatch=False)
    raw = RawContact(source="web_form", name="Анна", phone="+79161234567")
    first = await core_ingest_event(hub, clock, normalise(raw, region="RU", require_phone=False))
    out = tmp_path / "backup.file"
    made = await asyncio.to_thread(backup_cli.cmd_backup, settings, namespace(out=out))
    assert made == 0
    assert out.exists()
    raw = RawContact(source="web_form", name="Борис", phone="+79161234568")
    later = await core_ingest_event(hub, clock, normalise(raw, region="RU", require_phone=False))
    await Tortoise.close_connections()

    refused = await asyncio.to_thread(
        backup_cli.cmd_restore, settings, namespace(file=out, force=False)
    )
    assert refused == 1
    assert "not empty" in capsys.readouterr().err
    await db.open_database(settings.database_url)
    assert await LeadEntry.filter(id=later.lead_id).exists()  # nothing was touched
    await Tortoise.close_connections()

    forced = await asyncio.to_thread(
        backup_cli.cmd_restore, settings, namespace(file=out, force=True)
    )
    assert forced == 0
    await db.open_database(settings.database_url)
    assert await LeadEntry.filter(id=first.lead_id).exists()
    assert not await LeadEntry.filter(id=later.lead_id).exists()


async def test_without_pg_dump_the_backup_says_what_to_run(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump here
    pg = settings.model_copy(update={"database_url": "postgres://u:pw@db.example:5433/funnel"})
    status = backup_cli.cmd_backup(pg, namespace(out=tmp_path / "x.dump"))
    assert status == 1
    err = capsys.readouterr().err
    assert "pg_dump --format=custom --host=db.example --port=5433 --username=u" in err
    assert "PGPASSWORD=…" in err
    assert "pw" not in err.replace("PGPASSWORD", "")
