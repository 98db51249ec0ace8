"""Backups and restores of the whole database, safe while the service runs.

SQLite: `sqlite3.Connection.backup` copies every page in one step, inside one read
transaction, so the copy is the database as of one instant; in WAL mode that reader
blocks no writer, and the service keeps taking leads meanwhile. A copy goes to a
temporary file beside the target and is renamed only once complete and checked, so a
crash never leaves half a backup under the real name.

PostgreSQL: `pg_dump --format=custom` (one snapshot transaction, equally consistent) and
`pg_restore --clean`; without those programs we print the exact command to run and fail.
Restoring over a database that already holds data needs `force`: a restore replaces
everything, and the most likely mistake is restoring into the live database.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# The tables whose rows make a database "not empty" (the migrations' own record does not).
MIGRATIONS_TABLE = "tortoise_migrations"


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class PgTarget:
    """What pg_dump/pg_restore need to reach a `postgres://` database."""

    args: list[str]  # --host, --port, --username, --dbname, and --schema when set
    password: str
    schema: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password} if self.password else dict(os.environ)


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite://")


def sqlite_path(database_url: str) -> Path:
    return Path(database_url.removeprefix("sqlite://").split("?", 1)[0])


def pg_target(database_url: str) -> PgTarget:
    parts = urlsplit(database_url)
    schema = parse_qs(parts.query).get("schema", [""])[0]
    args = [
        f"--host={parts.hostname or '127.0.0.1'}",
        f"--port={parts.port or 5432}",
        f"--username={parts.username or 'postgres'}",
        f"--dbname={parts.path.lstrip('/') or 'postgres'}",
    ]
    return PgTarget(args, parts.password or "", schema)


# --- SQLite ---------------------------------------------------------------------------


def backup_sqlite(database_url: str, out: Path) -> int:
    """Copy the live database to `out` (replacing it); returns the copy's size in bytes."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupError(f"no database at {source_path}")
    out = out.resolve()
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            # pages=-1: all at once, one read transaction, one consistent instant. Copying
            # in steps would restart whenever the service writes in between, and under
            # steady load might never finish.
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check(target, partial)
        finally:
            target.close()
    finally:
        source.close()
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(out)
    return out.stat().st_size


def _check(connection: sqlite3.Connection, path: Path) -> None:
    result = connection.execute("PRAGMA quick_check").fetchone()
    if not result or result[0] != "ok":
        raise BackupError(f"{path} failed SQLite's check: {result}")


def sqlite_rows(path: Path) -> int:
    """How many rows the data tables of the SQLite database at `path` hold (0: empty)."""
    if not path.exists():
        return 0
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            if name != MIGRATIONS_TABLE
        ]
        total = 0
        for table in tables:
            (count,) = connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()  # noqa: S608
            total += int(count)
        return total
    finally:
        connection.close()


def restore_sqlite(backup: Path, database_url: str, *, force: bool) -> None:
    """Replace the database's content with the backup's (stop the service first)."""
    if not backup.exists():
        raise BackupError(f"no backup at {backup}")
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        try:
            _check(source, backup)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{backup} is not an SQLite database: {exc}") from None
        target_path = sqlite_path(database_url)
        rows = sqlite_rows(target_path)
        if rows and not force:
            raise BackupError(
                f"{target_path} is not empty ({rows} rows): restoring would replace them. "
                "Stop the service, then run restore again with --force."
            )
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(target_path, timeout=30)
        try:
            # Page by page under the target's write lock; WAL and its readers stay correct.
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=WAL")
        finally:
            target.close()
    finally:
        source.close()


# --- PostgreSQL -----------------------------------------------------------------------


def pg_dump_command(database_url: str, out: Path) -> list[str]:
    target = pg_target(database_url)
    schema = [f"--schema={target.schema}"] if target.schema else []
    return ["pg_dump", "--format=custom", *target.args, *schema, f"--file={out}"]


def pg_restore_command(database_url: str, backup: Path) -> list[str]:
    target = pg_target(database_url)
    return [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        *target.args,
        str(backup),
    ]


def printable(command: list[str], database_url: str) -> str:
    password = pg_target(database_url).password
    prefix = "PGPASSWORD=… " if password else ""
    return prefix + shlex.join(command)


def run_pg(command: list[str], database_url: str) -> None:
    """Run pg_dump/pg_restore; without them, fail with the exact command to run."""
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed here (PostgreSQL's client programs; Debian: "
            "apt-get install postgresql-client). Run this where it is:\n  "
            + printable(command, database_url)
        )
    done = subprocess.run(  # noqa: S603 - our own argument list, no shell
        command, env=pg_target(database_url).env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")
