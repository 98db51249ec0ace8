"""Shared set-up for the benchmarks: a temporary database, migrated, opened."""

from __future__ import annotations

import contextlib
import resource
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from core import db
from core.settings import Settings, load_settings

if TYPE_CHECKING:
    from core.clock import Clock
    from core.hub import SignalHub
    from models import Webinar

ROOT = Path(__file__).resolve().parent.parent


@contextlib.asynccontextmanager
async def temp_database(url: str = "") -> AsyncIterator[tuple[str, Settings]]:
    """A fresh SQLite file (or `url`), migrated and open; settings pointing at it."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        url = url or f"sqlite://{tmp}/bench.sqlite3"
        await db.migrate(url)
        await db.open_database(url)
        settings = load_settings(
            database_url=url, data_dir=Path(tmp), secret_key="bench-" + "k" * 40
        )
        try:
            yield url, settings
        finally:
            await db.close_database()


def rss_mib() -> float:
    """Current resident memory of this process in MiB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def live_webinar_with_viewers(
    hub: SignalHub, clock: Clock, title: str, viewers: int
) -> tuple[Webinar, list[int]]:
    """A live obs webinar (HLS) and `viewers` leads registered for it: (webinar, lead ids)."""
    import time

    from core.bulk import insert_rows
    from core.webinar_rules import WebinarDraft
    from core.webinars import create_webinar, set_status
    from models import LeadEntry, WebinarRegistration, WebinarStatus

    start = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(clock.now() + 3600))
    draft = WebinarDraft(
        title=title,
        start=start,
        tz="UTC",
        duration="90",
        stream_type="obs",
        stream_url="https://cdn.example.com/live/stream.m3u8",
    )
    webinar = await create_webinar(hub, clock, draft, actor=None, default_tz="UTC")
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    await webinar.refresh_from_db()
    now = clock.now()
    async with hub.transaction() as tx:
        rows = [
            {
                "name": f"Viewer {i}",
                "lead_source": "bench",
                "first_touch_at": int(now),
                "lead_created_at": int(now),
                "updated_at": now,
            }
            for i in range(viewers)
        ]
        lead_ids = await insert_rows(tx.connection, LeadEntry, rows)
        registrations = [
            {"webinar_id": webinar.id, "lead_id": i, "source": "bench", "registered_at": now}
            for i in lead_ids
        ]
        await insert_rows(tx.connection, WebinarRegistration, registrations, returning_ids=False)
    return webinar, lead_ids
