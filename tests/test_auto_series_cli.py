"""`python main.py webinar series ...`: list with registrations, pause (the sessions nobody
registered for go, the others stay), resume (planned again), the chat replay's source,
and delete (refused while people are registered, unless --force: then cancelled)."""

from __future__ import annotations

import asyncio

import pytest

from core import db
from models import LeadEntry, Webinar, WebinarRegistration, WebinarStatus
from tests.test_auto_webinar_cli import AUTO
from tests.test_users_cli import cli_db  # noqa: F401  (the fixture)
from tests.test_webinar_cli import CREATE, read, run


def register_one(url: str, webinar_id: int) -> None:
    async def go() -> None:
        await db.open_database(url)
        try:
            lead = await LeadEntry.create(
                name="Анна",
                lead_source="web_form",
                first_touch_at=1,
                lead_created_at=1,
                updated_at=1,
            )
            await WebinarRegistration.create(
                webinar_id=webinar_id, lead_id=lead.id, source="web_form", registered_at=1
            )
        finally:
            await db.close_database()

    asyncio.run(go())


def sessions(url: str) -> list[Webinar]:
    return [w for w in read(url)[1] if w.series_id is not None]


def test_list_pause_resume_replay_and_delete(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, *AUTO)
    assert code == 0
    slug = out.splitlines()[-1]
    planned = sessions(cli_db)
    assert len(planned) == 7
    register_one(cli_db, planned[2].id)

    code, out, err = run(capsys, "series", "list")
    assert (code, err) == (0, "")
    assert out == f"1  {slug}  running  Auto <b>webinar</b>  coming: 7, registered: 1\n"
    code, out, _ = run(capsys, "series", "show", slug)
    assert sum("registered: 1  http" in line for line in out.splitlines()) == 1
    assert sum("registered: 0  http" in line for line in out.splitlines()) == 6

    # Deleting while people are registered is refused, and nothing changes.
    code, out, err = run(capsys, "series", "delete", slug)
    assert (code, out) == (2, "")
    assert err.startswith("error: 1 people registered for its coming sessions")
    assert len(sessions(cli_db)) == 7

    code, out, err = run(capsys, "series", "pause", "1")
    assert (code, err) == (0, "")
    assert out == (
        "1: paused; removed 6 session(s) nobody registered for, kept 1 with registrations\n"
    )
    (kept,) = sessions(cli_db)
    assert kept.id == planned[2].id
    code, out, _ = run(capsys, "series", "list")
    assert "  paused  " in out

    code, out, _ = run(capsys, "series", "resume", slug)
    assert out == f"{slug}: resumed; planned 6 new session(s)\n"
    assert len(sessions(cli_db)) == 7

    # The chat to replay: a live webinar's, by id; anything else is refused.
    code, out, err = run(capsys, "series", "edit", slug, "--replay-chat-from", "999")
    assert (code, err) == (2, "error: --replay-chat-from: '999' is not a live webinar\n")
    code, out, _ = run(capsys, *CREATE)
    live = next(w for w in read(cli_db)[1] if w.series_id is None)
    code, out, err = run(capsys, "series", "edit", slug, "--replay-chat-from", str(live.id))
    assert (code, out, err) == (0, f"{slug}: replays the chat of {live.id} ({live.slug})\n", "")

    # --force cancels the coming sessions (their registrants are told by the usual
    # consumers of the cancellation); the series is no longer listed or planned.
    code, out, err = run(capsys, "series", "delete", slug, "--force")
    assert (code, err) == (0, "")
    assert out.startswith(f"{slug}: deleted (its sessions are kept for the record); ")
    assert out.endswith("; cancelled 7 coming session(s)\n")
    assert {w.status for w in sessions(cli_db)} == {WebinarStatus.CANCELLED}
    events = [p for name, p in read(cli_db)[0] if name == "core_webinar_set_status"]
    assert [p["status"] for p in events] == ["cancelled"] * 7
    code, out, _ = run(capsys, "series", "list")
    assert out == "no AUTO webinars yet (`webinar create --kind auto --help`)\n"
    code, out, err = run(capsys, "series", "resume", slug)
    assert (code, err) == (2, f"error: no series {slug!r} (`webinar series list`)\n")
