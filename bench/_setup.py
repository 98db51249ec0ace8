"""Shared set-up for the benchmarks: a temporary database, migrated, opened."""

from __future__ import annotations

import contextlib
import resource
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from core import db
from core.settings import Settings, load_settings

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
