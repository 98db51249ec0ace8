"""`python main.py webinar create --kind auto ...`: the series, its first week of sessions,
and one-line refusals with exit status 2."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.test_users_cli import cli_db  # noqa: F401  (the fixture)
from tests.test_webinar_cli import read, run

# The command line runs on the wall clock; Moscow has no DST, so any 7 days hold 7 evenings.
SKIPPED = (datetime.now(ZoneInfo("Europe/Moscow")) + timedelta(days=3)).strftime("%Y-%m-%d")
AUTO = [
    "create",
    "--kind",
    "auto",
    "--title",
    "Auto <b>webinar</b>",
    "--recording-url",
    "https://cdn.example.com/rec/webinar.m3u8",
    "--recording-duration",
    "45",
    "--schedule",
    "daily 19:00",
    "--tz",
    "Europe/Moscow",
]


def test_create_auto_plans_a_week_of_sessions_without_the_blackout(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, *AUTO, "--blackout", SKIPPED)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[-1] == "auto-b-webinar-b"
    assert sum(line.startswith("session: ") for line in lines) == 6
    events, webinars = read(cli_db)
    assert [name for name, _ in events] == ["core_webinar_created"] * 6
    tz = ZoneInfo("Europe/Moscow")
    days = [datetime.fromtimestamp(w.starts_at, tz) for w in webinars]
    assert all((d.hour, d.minute) == (19, 0) for d in days)
    assert SKIPPED not in {d.strftime("%Y-%m-%d") for d in days}
    assert {(w.kind.value, w.duration_min, w.title) for w in webinars} == {
        ("auto", 45, "Auto <b>webinar</b>")
    }
    assert len({w.series_id for w in webinars}) == 1
    assert webinars[0].series_id


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--schedule", "hourly"], "--schedule: 'hourly' is not a schedule like"),
        (["--recording-duration", "0"], "--recording-duration: a whole number from 1 to 1440"),
        (["--blackout", "31.12.2026"], "--blackout: '31.12.2026' is not a date like 2026-12-31"),
        (["--start", "2030-01-01T19:00"], "--start: not for --kind auto"),
        (["--kind", "recorded"], "--kind: unknown kind 'recorded'; one of: live, auto"),
    ],
)
def test_bad_auto_input_is_one_line_and_exit_2(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    code, _out, err = run(capsys, *AUTO, *extra)
    assert code == 2
    assert err.startswith(f"error: {message}")
    assert err.count("\n") == 1
    assert read(cli_db) == ([], [])


def test_auto_options_are_refused_for_a_live_webinar(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "create", "--schedule", "daily 19:00")
    assert (code, err) == (2, "error: --schedule: only for --kind auto\n")


def test_a_just_in_time_series_plans_nothing_ahead_and_says_where_its_page_is(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [a if a != "daily 19:00" else "jit" for a in AUTO]
    code, out, err = run(capsys, *args)
    assert (code, err) == (0, "")
    assert "page: " in out
    assert "/w/auto-b-webinar-b" in out
    assert "just-in-time: a session within 15 minutes" in out
    assert read(cli_db) == ([], [])  # sessions come when visitors register
    code, out, err = run(capsys, *AUTO, "--slug", "with-jit", "--just-in-time")
    assert (code, err) == (0, "")
    assert sum(line.startswith("session: ") for line in out.splitlines()) == 7
    code, _, err = run(capsys, "create", "--just-in-time")
    assert (code, err) == (2, "error: --just-in-time: only for --kind auto\n")
