"""Schema changes go through committed migrations, and `migrate` can be run any time."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from core import db


async def test_models_and_committed_migrations_agree() -> None:
    config = db.tortoise_config("sqlite://:memory:")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        assert ctx.apps is not None
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    pending = [op for w in writers for op in w.operations]
    assert not pending, f"models changed without a migration — run `make migrations`: {pending}"


async def test_migrate_twice_is_harmless(database_url: str) -> None:
    await Tortoise.close_connections()
    await db.migrate(database_url)  # already applied by the fixture: nothing to do
    await db.open_database(database_url)
    conn = Tortoise.get_connection("default")
    _, rows = await conn.execute_query("SELECT count(*) AS n FROM lead_entry")
    assert rows[0]["n"] == 0


async def test_sqlite_runs_in_wal_mode_with_full_sync(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        return
    conn = Tortoise.get_connection("default")
    _, mode = await conn.execute_query("PRAGMA journal_mode")
    _, sync = await conn.execute_query("PRAGMA synchronous")
    assert dict(mode[0]).popitem()[1] == "wal"
    assert dict(sync[0]).popitem()[1] == 2  # FULL
