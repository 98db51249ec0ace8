"""`python main.py backup --out FILE` and `python main.py restore FILE [--force]`.

The backup is safe while the service runs (see `core/backup.py` for how each database
gets a consistent copy). A restore replaces the whole database: stop the service first;
it refuses a database that holds data unless `--force`, and migrates the restored copy
to this version's schema, so a backup taken before an upgrade restores after it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tortoise import Tortoise

from core import backup as backups
from core import db
from core.settings import Settings


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    make = sub.add_parser(
        "backup",
        help="copy the database to a file, consistently, while the service runs",
        description="SQLite: one file (SQLite's online backup). PostgreSQL: pg_dump's "
        "custom format; without pg_dump it prints the command to run and fails.",
    )
    make.add_argument("--out", required=True, type=Path, help="the backup file to write")
    make.set_defaults(func=cmd_backup)
    restore = sub.add_parser(
        "restore",
        help="replace the database with a backup (stop the service first)",
        description="Refuses a database that holds data unless --force; migrates afterwards.",
    )
    restore.add_argument("file", type=Path, help="a file made by `main.py backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace a database that already holds data"
    )
    restore.set_defaults(func=cmd_restore)


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    url = settings.database_url
    try:
        if backups.is_sqlite(url):
            size = backups.backup_sqlite(url, args.out)
            print(f"backed up to {args.out} ({size // 1024} KiB)")
        else:
            backups.run_pg(backups.pg_dump_command(url, args.out), url)
            print(f"backed up to {args.out} (pg_dump custom format; restore: main.py restore)")
    except backups.BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    url = settings.database_url
    try:
        if backups.is_sqlite(url):
            backups.restore_sqlite(args.file, url, force=args.force)
        else:
            rows = asyncio.run(postgres_rows(url))
            if rows and not args.force:
                raise backups.BackupError(
                    f"the database is not empty ({rows} rows): restoring would replace "
                    "them. Stop the service, then run restore again with --force."
                )
            backups.run_pg(backups.pg_restore_command(url, args.file), url)
    except backups.BackupError as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    asyncio.run(db.migrate(url))  # a backup from an older version gets this one's schema
    print(f"restored {args.file}; the database is up to date")
    return 0


async def postgres_rows(database_url: str) -> int:
    """Rows in the data tables of the PostgreSQL schema `database_url` points at."""
    await db.open_database(database_url)
    try:
        connection = Tortoise.get_connection("default")
        tables = await connection.execute_query_dict(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        total = 0
        for row in tables:
            if row["tablename"] == backups.MIGRATIONS_TABLE:
                continue
            counted = await connection.execute_query_dict(
                f'SELECT COUNT(*) AS n FROM "{row["tablename"]}"'  # noqa: S608 - catalogue names
            )
            total += int(counted[0]["n"])
        return total
    finally:
        await db.close_database()
