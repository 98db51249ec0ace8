"""`python main.py webinar ...`: what an operator types and sees, and what it stores."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import main
from models import EventRecord, Webinar
from tests.test_users_cli import cli_db, stored  # noqa: F401  (the fixture)

# The command line runs on the wall clock: a start that stays in the future.
DAY = (datetime.now() + timedelta(days=40)).strftime("%Y-%m-%d")
CREATE = [
    "create",
    "--title",
    "Partner <b>webinar</b>",
    "--start",
    f"{DAY}T19:00",
    "--tz",
    "Europe/Moscow",
    "--duration",
    "90",
    "--stream-type",
    "obs",
    "--stream-url",
    "https://cdn.example.com/hls/live.m3u8",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main.main(["webinar", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def read(url: str) -> tuple[list[tuple[str, dict[str, object]]], list[Webinar]]:
    import asyncio

    from core import db

    async def go() -> tuple[list[tuple[str, dict[str, object]]], list[Webinar]]:
        await db.open_database(url)
        try:
            events = [(e.name, e.payload) for e in await EventRecord.all().order_by("id")]
            return events, await Webinar.all().order_by("id")
        finally:
            await db.close_database()

    return asyncio.run(go())


def test_create_prints_the_slug_last_and_stores_the_webinar(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, *CREATE, "--speaker", "4242", "--description", "About it")
    assert (code, err) == (0, "")
    slug = out.splitlines()[-1]
    assert slug == f"partner-b-webinar-b-{DAY}"
    assert f"/w/{slug}" in out
    events, webinars = read(cli_db)
    (webinar,) = webinars
    assert (webinar.slug, webinar.title, webinar.duration_min) == (
        slug,
        "Partner <b>webinar</b>",
        90,
    )
    assert [name for name, _ in events] == ["core_webinar_created"]

    code, out, _ = run(capsys, "list")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["SLUG", "START", "STATUS", "STREAM", "REGISTERED", "TITLE"]
    assert row.startswith(slug)
    assert f"{DAY} 19:00 Europe/Moscow  scheduled  obs" in row

    code, out, _ = run(capsys, "show", slug)
    assert code == 0
    assert "speaker:     4242" in out
    assert "chat:        internal" in out
    assert "description: About it" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--start", "2020-01-01T10:00"], "error: --start: the start must be in the future\n"),
        (
            ["--stream-type", "rtmp"],
            "error: --stream-type: unknown stream type 'rtmp'; one of: obs, zoom, telegram\n",
        ),
        (
            ["--stream-url", "not a url"],
            "error: --stream-url: 'not a url' is not a web address (http:// or https://)\n",
        ),
        (
            ["--stream-type", "zoom", "--stream-url", "https://zoom.us/j/1", "--chat", "on"],
            "error: --chat: a zoom webinar's chat is the platform's own: two chats for one "
            "webinar are forbidden\n",
        ),
        (
            ["--stream-type", "telegram", "--stream-url", "https://t.me/x", "--chat", "on"],
            "error: --chat: a telegram webinar's chat is the platform's own: two chats for one "
            "webinar are forbidden\n",
        ),
        (["--tz", "Moscow"], "error: --tz: 'Moscow' is not a time zone like Europe/Moscow\n"),
        (["--duration", "-5"], "error: --duration: a whole number from 1 to 1440\n"),
    ],
)
def test_invalid_input_is_one_line_and_exit_2(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    code, out, err = run(capsys, *CREATE, *extra)
    assert (code, out, err) == (2, "", message)
    assert read(cli_db) == ([], [])


def test_a_missing_required_option_is_one_line(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "create", "--title", "T")
    assert (code, out, err) == (2, "", "error: --start: this is needed\n")


def test_edit_and_set_status_through_core(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    slug = run(capsys, *CREATE)[1].splitlines()[-1]
    assert run(capsys, "edit", slug, "--start", f"{DAY}T20:00", "--duration", "60") == (
        0,
        f"{slug}: changed duration_min, starts_at\n",
        "",
    )
    assert run(capsys, "edit", slug) == (
        2,
        "",
        "error: nothing to change: give at least one option (see --help)\n",
    )
    assert run(capsys, "set-status", slug, "finished") == (
        2,
        "",
        f"error: {slug} is scheduled: It has not started yet: start it first, or cancel it.\n",
    )
    assert run(capsys, "set-status", slug, "live") == (0, f"{slug}: live\n", "")
    assert run(capsys, "set-status", slug, "LIVE") == (0, f"{slug} was live already\n", "")
    assert run(capsys, "edit", slug, "--start", f"{DAY}T21:00") == (
        2,
        "",
        "error: --start: cannot be changed on a live webinar\n",
    )
    assert run(capsys, "set-status", slug, "finished") == (0, f"{slug}: finished\n", "")
    assert run(capsys, "set-status", slug, "paused") == (
        2,
        "",
        "error: unknown status 'paused'; one of: live, finished, cancelled\n",
    )
    assert run(capsys, "set-status", "no-such", "live") == (
        2,
        "",
        "error: no webinar 'no-such' (see `webinar list`)\n",
    )
    events, (webinar,) = read(cli_db)
    assert [(n, p.get("status")) for n, p in events] == [
        ("core_webinar_created", None),
        ("core_webinar_updated", None),
        ("core_webinar_set_status", "live"),
        ("core_webinar_set_status", "finished"),
    ]
    assert webinar.status == "finished"


def test_reminder_offsets_are_set_shown_and_checked(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    slug = run(capsys, *CREATE, "--reminders", "2h, 15m,2h")[1].splitlines()[-1]
    assert read(cli_db)[1][0].reminder_offsets == [7200, 900]
    _, out, _ = run(capsys, "show", slug)
    assert "reminders:   2h, 15m before the start" in out
    assert run(capsys, "edit", slug, "--reminders", "off")[0] == 0
    assert read(cli_db)[1][0].reminders == ()
    assert run(capsys, "edit", slug, "--reminders", "soon") == (
        2,
        "",
        "error: --reminders: 'soon' is not a list of times like 24h,1h,10m\n",
    )
    assert run(capsys, "edit", slug, "--reminders", "1d,2d,3d,4d,5d,6d")[0] == 2
    assert run(capsys, "edit", slug, "--reminders", "30s")[0] == 2
    assert run(capsys, "edit", slug, "--reminders", "24h,1h,10m")[0] == 0
    assert read(cli_db)[1][0].reminders == (86400, 3600, 600)


def test_a_command_that_publishes_gives_each_subscriber_its_delivery(
    cli_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command line wires the consumers only when it publishes (`wire_later`): every
    event it stores still has one delivery row per subscriber, as the service's have."""
    import asyncio

    from core import db
    from core.clock import SystemClock
    from core.hub import SignalHub
    from core.settings import load_settings
    from models import EventDelivery

    slug = run(capsys, *CREATE)[1].splitlines()[-1]
    assert run(capsys, "edit", slug, "--duration", "60")[0] == 0
    assert run(capsys, "set-status", slug, "live")[0] == 0
    hub = SignalHub(SystemClock(), dispatch=False)
    main.wire(load_settings(), SystemClock(), hub)

    def subscribers(name: str) -> list[str]:
        return sorted(s.name for s in hub.subscriptions if s.event == name)

    async def deliveries() -> list[tuple[str, list[str]]]:
        await db.open_database(cli_db)
        try:
            found: list[tuple[str, list[str]]] = []
            for event in await EventRecord.all().order_by("id"):
                rows = EventDelivery.filter(event_id=event.id).values_list("subscriber", flat=True)
                found.append((event.name, sorted(str(name) for name in await rows)))
            return found
        finally:
            await db.close_database()

    found = asyncio.run(deliveries())
    assert [name for name, _ in found] == [
        "core_webinar_created",
        "core_webinar_updated",
        "core_webinar_set_status",
    ]
    assert found == [(name, subscribers(name)) for name, _ in found]
    assert subscribers("core_webinar_set_status")  # the service does consume it
