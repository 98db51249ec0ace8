"""`python main.py users ...`: exit codes, messages, and the events each change stores.

Plain (not async) tests: `main.main` runs its own event loop, as it does for the operator.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import main
from core import db
from core.settings import Settings
from models import EventRecord, User
from tests.conftest import PG_URL, _reset_postgres

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database for `main.main`, which reads its settings from the environment."""
    for name in list(os.environ):
        if name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    url = asyncio.run(_reset_postgres(PG_URL)) if PG_URL else f"sqlite://{tmp_path}/cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-" + "x" * 32)
    monkeypatch.setenv("ADMIN_IDS", "5")
    return url


def stored(url: str) -> tuple[list[tuple[str, dict[str, Any]]], list[User]]:
    async def read() -> tuple[list[tuple[str, dict[str, Any]]], list[User]]:
        await db.open_database(url)
        try:
            events = await EventRecord.all().order_by("id")
            return [(e.name, e.payload) for e in events], await User.all().order_by("id")
        finally:
            await db.close_database()

    return asyncio.run(read())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main.main(["users", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_set_role_for_someone_who_has_not_opened_the_bot(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "set-role", "123456", "Speaker")

    assert (code, err) == (0, "")
    assert out == "123456: role speaker (waiting for them to open the bot)\n"
    events, users = stored(cli_db)
    assert [(u.telegram_id, u.role, u.chat_id) for u in users] == [(123456, "speaker", None)]
    (name, payload), *_ = events
    assert name == "core_user_role_set"
    assert payload["user_id"] == users[0].id
    assert (payload["telegram_id"], payload["role"], payload["previous_role"]) == (
        123456,
        "speaker",
        "candidate",
    )
    assert (payload["actor"], payload["actor_user_id"]) == ("system", None)
    assert payload["timestamp"] > 0


def test_grant_revoke_and_list(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "set-role", "7", "leader")[0] == 0
    assert run(capsys, "grant", "7", "approve_users") == (0, "7: approve_users granted\n", "")
    assert run(capsys, "revoke", "7", "leads_view_team") == (
        0,
        "7: leads_view_team withdrawn\n",
        "",
    )
    run(capsys, "set-role", "5", "partner")  # in ADMIN_IDS: told it will not last

    code, out, _ = run(capsys, "list")

    assert code == 0
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["TELEGRAM", "ID", "NAME"]
    assert rows[0].split()[0] == "7"
    assert "leader" in rows[0]
    assert rows[0].endswith("+approve_users -leads_view_team")
    assert rows[1].split()[0] == "5"
    assert rows[1].endswith("—")
    events, _ = stored(cli_db)
    assert [(n, p.get("capability"), p.get("granted")) for n, p in events] == [
        ("core_user_role_set", None, None),
        ("core_user_capability_set", "approve_users", True),
        ("core_user_capability_set", "leads_view_team", False),
        ("core_user_role_set", None, None),
    ]


def test_admin_ids_are_warned_about(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "set-role", "5", "partner")
    assert code == 0
    assert "note: 5 is in ADMIN_IDS and becomes admin again on their next message" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["set-role", "12", "moderator"],
            "error: unknown role 'moderator'; valid roles: candidate, partner, leader, speaker, "
            "admin\n",
        ),
        (["set-role", "abc", "admin"], "error: 'abc' is not a Telegram id (a positive number)\n"),
        (["grant", "-3", "broadcast"], "error: '-3' is not a Telegram id (a positive number)\n"),
        (["revoke", "0", "broadcast"], "error: '0' is not a Telegram id (a positive number)\n"),
    ],
)
def test_bad_input_is_one_line_and_a_failure(
    cli_db: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out, err) == (2, "", message)
    events, users = stored(cli_db)
    assert (events, users) == ([], [])


def test_an_unknown_capability_lists_the_valid_ones(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "grant", "12", "moderate")
    assert code == 2
    assert err.startswith("error: unknown capability 'moderate'; valid: leads_view_own, ")
    assert "approve_users" in err
    assert err.count("\n") == 1


def test_users_without_a_command_shows_help_and_fails(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys)
    assert code == 2
    assert "set-role" in out
    assert "revoke" in out


def test_users_help_in_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "main.py", "users", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for command in ("list", "set-role", "grant", "revoke"):
        assert command in done.stdout


def test_the_last_admin_cannot_be_locked_out(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "set-role", "9", "admin")[0] == 0

    refusal = "this would leave nobody with users_manage_roles; grant it to someone else first"
    assert run(capsys, "set-role", "9", "speaker") == (2, "", f"error: 9: {refusal}\n")
    assert run(capsys, "revoke", "9", "users_manage_roles") == (2, "", f"error: 9: {refusal}\n")
    # With a second admin, the first may go.
    assert run(capsys, "set-role", "10", "admin")[0] == 0
    assert run(capsys, "set-role", "9", "speaker")[0] == 0

    events, users = stored(cli_db)
    assert [(p["telegram_id"], p["role"]) for _, p in events] == [
        (9, "admin"),
        (10, "admin"),
        (9, "speaker"),
    ]
    assert {u.telegram_id: u.role for u in users} == {9: "speaker", 10: "admin"}
