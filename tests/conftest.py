"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), migrated through the committed migrations."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from tortoise import Tortoise

import main
from core import db
from core.clock import FakeClock
from core.hub import SignalHub
from core.settings import Settings, load_settings
from sandbox import FakeTelegram
from tests.room_support import Visitor, room_app

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


async def _reset_postgres(url: str) -> str:
    """A schema of this test process's own, emptied: parallel runs don't collide."""
    schema = f"test_{os.getpid()}"
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};")
    finally:
        await conn.close()
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_schema() -> Iterator[None]:
    yield
    if PG_URL:

        async def drop() -> None:
            conn = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1))
            try:
                await conn.execute(f"DROP SCHEMA IF EXISTS test_{os.getpid()} CASCADE")
            finally:
                await conn.close()

        asyncio.run(drop())


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The committed migrations, applied once per test process (about three seconds each
    time): every test then starts from a copy of this SQLite file, or from this
    PostgreSQL schema emptied."""
    if PG_URL:
        url = asyncio.run(_reset_postgres(PG_URL))
        asyncio.run(db.migrate(url))
        _PG_TABLES.update(asyncio.run(_tables_of(f"test_{os.getpid()}")))
        return url
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(db.migrate(f"sqlite://{path}"))
    return str(path)


async def _empty_postgres(url: str) -> None:
    """Every table of the test schema emptied and its ids restarted, but the migrations'
    own record: the schema is as `migrate` left it. A test that replaced the schema (a
    restore, the CLI tests' own reset) leaves other tables, or none: then it is built
    again from the migrations."""
    schema = f"test_{os.getpid()}"
    conn = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1))
    try:
        tables = {
            row["tablename"]
            for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1", schema
            )
        }
        if tables != _PG_TABLES:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};")
        else:
            names = ", ".join(f'{schema}."{t}"' for t in sorted(tables - {"tortoise_migrations"}))
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
    if tables != _PG_TABLES:
        await db.migrate(url)


_PG_TABLES: set[str] = set()  # the migrated schema's tables, read once per test process


async def _tables_of(schema: str) -> set[str]:
    conn = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
    finally:
        await conn.close()
    return {row["tablename"] for row in rows}


@pytest.fixture
async def database_url(tmp_path: Path, _migrated_template: str) -> AsyncIterator[str]:
    """A freshly migrated database; its connections are open for the test."""
    if PG_URL:
        url = _migrated_template
        await _empty_postgres(url)
    else:
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(_migrated_template, target)
        url = f"sqlite://{target}"
    await db.open_database(url)
    yield url
    await Tortoise.close_connections()


STUCK_AFTER = 150.0  # seconds; pytest-timeout fails the test at 180


@pytest.fixture(autouse=True)
async def _dump_tasks_when_stuck(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """A test still running after STUCK_AFTER seconds prints every asyncio task's stack:
    a hang where the loop sits idle shows what each task is waiting for."""
    loop = asyncio.get_running_loop()

    def dump() -> None:
        print(f"\n==== {request.node.nodeid} is stuck; asyncio tasks:", file=sys.stderr)
        for task in asyncio.all_tasks(loop):
            print(f"---- {task.get_name()}: {task.get_coro()}", file=sys.stderr)
            task.print_stack(file=sys.stderr)

    handle = loop.call_later(STUCK_AFTER, dump)
    yield
    handle.cancel()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # Tests never read the developer's .env or environment.
    for name in list(os.environ):
        if name in Settings.model_fields or name.upper() in {
            f.upper() for f in Settings.model_fields
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return load_settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        web_port=0,
        secret_key="test-secret-key-" + "x" * 32,
    )


@pytest.fixture
async def hub(database_url: str, clock: FakeClock) -> AsyncIterator[SignalHub]:
    hub = SignalHub(clock)
    yield hub
    await hub.stop()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def service(settings: Settings, clock: FakeClock) -> AsyncIterator[object]:
    """The whole product in sandbox mode (no BOT_TOKEN), on a free port, with a fake clock.

    Yields the `main.Runtime`; `rt.settings.base_url` is not the real port — use
    `service_url`.
    """
    rt = main.build(settings, clock)
    await main.start(rt)
    yield rt
    await main.stop(rt)


@pytest.fixture
def service_url(service: object) -> str:
    runner = service.runner  # type: ignore[attr-defined]
    port = runner.addresses[0][1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make test does it)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram(main.new_sandbox_token())
    async with fake.serve() as base:
        yield fake, base


@pytest.fixture
def product(
    settings: Settings, clock: FakeClock, telegram: tuple[FakeTelegram, str]
) -> Callable[..., Any]:
    """`async with product() as rt:` — the service, bot polling the fake Telegram."""

    @asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[main.Runtime]:
        rt = main.build(settings.model_copy(update=overrides), clock)
        await main.start(rt, api_base=telegram[1], token=telegram[0].token)
        try:
            yield rt
        finally:
            await main.stop(rt)

    return run


# ---- a webinar room's web app, and its visitors (the room tests) -------------------------


@pytest.fixture
async def room(aiohttp_server: Any, settings: Settings, clock: FakeClock, hub: SignalHub) -> Any:
    """The web app serving rooms, on a real port (`tests/room_support.room_app`)."""
    return await room_app(aiohttp_server, settings, clock, hub)


@pytest.fixture
async def people(room: Any) -> AsyncIterator[Callable[[], Any]]:
    """`people()`: a new browser-like visitor of the room; all closed at the end."""
    made: list[Visitor] = []

    def visitor() -> Visitor:
        made.append(Visitor(room.base))
        return made[-1]

    yield visitor
    for one in made:
        await one.close()
