"""`python main.py leads ...`: the table, the CSV, exit codes and one-line errors.

Plain (not async) tests: `main.main` runs its own event loop, as it does for the operator.
"""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

import main
from core import db
from models import CrmStatus, EventRecord, LeadEntry, LeadNote, Role, User
from tests.test_users_cli import ROOT, cli_db  # noqa: F401 - the fixture

NOW = 1_767_225_600  # 2026-01-01 00:00 UTC


def seed(url: str) -> dict[str, int]:
    """Pavel (Telegram id 100) with two leads, Olga (200) with one; one lead has no partner."""

    async def create() -> dict[str, int]:
        await db.migrate(url)
        await db.open_database(url)
        try:
            users = {}
            for telegram_id, name in ((100, "Pavel"), (200, "Olga")):
                users[name] = await User.create(
                    telegram_id=telegram_id,
                    first_name=name,
                    role=Role.PARTNER,
                    created_at=NOW,
                    updated_at=NOW,
                )
            ids = {}
            for n, (name, partner, status, phone) in enumerate(
                (
                    ("Анна", "Pavel", CrmStatus.NEW, "+79160000001"),
                    ("=SUM(A1:A2)", "Pavel", CrmStatus.APPLIED, "+79160000002"),
                    ("Boris", "Olga", CrmStatus.NEW, "+79160000003"),
                    ("Vera", None, CrmStatus.REJECTED, None),
                )
            ):
                lead = await LeadEntry.create(
                    name=name,
                    phone=phone,
                    lead_source="web_form",
                    first_touch_at=NOW + n,
                    lead_created_at=NOW + n,
                    updated_at=NOW + n,
                    partner_id=users[partner].id if partner else None,
                    crm_status=status,
                )
                ids[name] = lead.id
            await LeadNote.create(lead_id=ids["Анна"], text="перезвонить", at=NOW)
            return ids
        finally:
            await db.close_database()

    return asyncio.run(create())


@pytest.fixture
def seeded(cli_db: str) -> dict[str, int]:  # noqa: F811
    return seed(cli_db)


def events(url: str) -> list[tuple[str, dict[str, object]]]:
    async def read() -> list[tuple[str, dict[str, object]]]:
        await db.open_database(url)
        try:
            return [(e.name, e.payload) for e in await EventRecord.all().order_by("id")]
        finally:
            await db.close_database()

    return asyncio.run(read())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main.main(["leads", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_is_a_table_newest_first(
    cli_db: str,  # noqa: F811
    seeded: dict[str, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = seeded
    code, out, err = run(capsys, "list")
    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "CREATED", "NAME", "CONTACT", "SOURCE", "STATUS", "PARTNER"]
    assert [int(r.split()[0]) for r in rows] == [
        ids[n] for n in ("Vera", "Boris", "=SUM(A1:A2)", "Анна")
    ]
    assert "2026-01-01 03:00" in rows[-1]  # Europe/Moscow
    assert rows[-1].endswith("100 Pavel")
    assert rows[0].endswith("—")

    code, out, _ = run(capsys, "list", "--partner", "100", "--status", "Applied")
    assert code == 0
    (row,) = out.splitlines()[1:]
    assert row.split()[0] == str(ids["=SUM(A1:A2)"])

    code, out, _ = run(capsys, "list", "--limit", "1")
    assert out.splitlines()[-1] == "… 3 more (--limit)"


def test_export_writes_the_csv_and_records_it(
    cli_db: str,  # noqa: F811
    seeded: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    ids = seeded
    target = tmp_path / "leads.csv"
    code, out, err = run(capsys, "export", "--out", str(target), "--partner", "100")
    assert (code, err) == (0, "")
    assert out == f"2 leads written to {target}\n"
    data = target.read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [ids["=SUM(A1:A2)"], ids["Анна"]]
    assert rows[0]["name"] == "'=SUM(A1:A2)"
    assert (rows[1]["name"], rows[1]["crm_status"], rows[1]["partner_telegram_id"]) == (
        "Анна",
        "new",
        "100",
    )
    assert (rows[1]["notes"], rows[1]["last_note"]) == ("1", "перезвонить")
    assert rows[1]["first_touch_at"] == "2026-01-01T03:00:00+03:00"
    ((name, payload),) = events(cli_db)
    assert name == "core_leads_exported"
    assert (payload["count"], payload["scope"], payload["actor"]) == (2, "all", "system")


def test_export_to_stdout(
    cli_db: str,  # noqa: F811
    seeded: dict[str, int],
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    code = main.main(["leads", "export", "--out", "-", "--status", "rejected"])
    out, err = capsysbinary.readouterr()
    assert (code, err) == (0, b"")
    lines = out.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,name,phone,email,source,crm_status,")
    assert [line.split(",")[1] for line in lines[1:]] == ["Vera"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "--partner", "999"], "error: no user with Telegram id 999\n"),
        (["list", "--partner", "abc"], "error: 'abc' is not a Telegram id (a positive number)\n"),
        (
            ["list", "--status", "won"],
            "error: unknown status 'won'; valid: new, in_progress, applied, partner, rejected\n",
        ),
        (["list", "--limit", "0"], "error: --limit '0' is not a positive number\n"),
        (["export", "--out", "x.csv", "--partner", "999"], "error: no user with Telegram id 999\n"),
        (
            ["export", "--out", "/nonexistent/dir/leads.csv"],
            "error: cannot write /nonexistent/dir/leads.csv: No such file or directory\n",
        ),
    ],
)
def test_bad_input_is_one_line_and_a_failure(
    cli_db: str,  # noqa: F811
    seeded: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out, err) == (2, "", message)
    assert events(cli_db) == []
    assert not Path("x.csv").exists()


def test_leads_without_a_command_shows_help_and_fails(
    cli_db: str,  # noqa: F811
    seeded: dict[str, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys)
    assert code == 2
    assert "export" in out


@pytest.mark.parametrize(
    "argv", [["leads", "--help"], ["leads", "list", "--help"], ["leads", "export", "--help"]]
)
def test_help_in_a_real_process(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "main.py", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: main.py leads")
    assert "Traceback" not in done.stderr


def test_export_needs_out(cli_db: str) -> None:  # noqa: F811
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "leads", "export"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "the following arguments are required: --out" in done.stderr
    assert "Traceback" not in done.stderr
