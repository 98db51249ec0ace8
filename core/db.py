"""Database configuration, start-up and migrations (Tortoise 1.x's own)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tortoise import Tortoise
from tortoise.migrations.api import migrate as migrate_api

from models import MODEL_MODULES

APP_LABEL = "models"
MIGRATIONS_MODULE = "models.migrations"

# SQLite: WAL so the CLI can read and write while the service runs; FULL so that a
# commit is on disk before we answer (the form promises the lead is stored);
# busy_timeout so a second process waits for the lock instead of failing.
SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "FULL",
    "busy_timeout": 10000,
    "foreign_keys": "ON",
}


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config for `database_url` (sqlite:// or postgres://)."""
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://").split("?", 1)[0]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection: str | dict[str, Any] = {
            "engine": "tortoise.backends.sqlite",
            "credentials": {"file_path": path, **SQLITE_PRAGMAS},
        }
    else:
        connection = _postgres(database_url)
    return {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": False,
        "timezone": "UTC",
    }


def _postgres(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    # `?schema=name` keeps the tables in their own PostgreSQL schema (search_path).
    schema = parse_qs(parts.query).get("schema", [""])[0]
    return {
        "engine": "tortoise.backends.asyncpg",
        "credentials": {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": parts.username or "postgres",
            "password": parts.password or "",
            "database": parts.path.lstrip("/") or "postgres",
            "minsize": 1,
            "maxsize": 10,
            **({"schema": schema} if schema else {}),
        },
    }


@contextlib.contextmanager
def _keep_timezone_variable() -> Iterator[None]:
    # Tortoise's init writes os.environ["TIMEZONE"] = "UTC"; our TIMEZONE setting reads
    # that variable, so any settings loaded later in the process would silently be UTC.
    before = os.environ.get("TIMEZONE")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TIMEZONE", None)
        else:
            os.environ["TIMEZONE"] = before


async def migrate(database_url: str) -> None:
    """Apply every committed migration that the database has not seen yet."""
    with _keep_timezone_variable():
        await migrate_api(config=tortoise_config(database_url))
    await Tortoise.close_connections()


async def open_database(database_url: str) -> None:
    with _keep_timezone_variable():
        await Tortoise.init(config=tortoise_config(database_url))


async def close_database() -> None:
    await Tortoise.close_connections()
