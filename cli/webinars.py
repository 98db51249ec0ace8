"""`python main.py webinar ...`: create, list, show, edit a webinar, and set its status.

An inbound adapter: it turns the options into a `WebinarDraft`, calls one Core command
as the system (`actor=None`) and prints the outcome. Bad input is one line on stderr and
exit status 2 — the same checks, in the same words, as the bot's dialog
(`core/webinar_rules.py`). `create` prints the new webinar's slug as its last line, so a
script can take it with `tail -n 1`.
"""

from __future__ import annotations

import argparse

from tortoise.functions import Count

from cli import series as series_cli
from cli.users import fail
from core.auto_webinars import AutoDraft, create_auto_series, plan_sessions
from core.clock import Clock
from core.hub import SignalHub
from core.present import local, public_name
from core.settings import Settings
from core.webinar_rules import WebinarDraft, WebinarInvalid, reminders_text
from core.webinars import Outcome, create_webinar, edit_webinar, find_webinar, set_status
from models import User, Webinar, WebinarRegistration, WebinarStatus

STATUSES = ", ".join(s.value for s in WebinarStatus if s is not WebinarStatus.SCHEDULED)
# (option, draft field, help); `create` and `edit` take the same ones.
OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--title", "title", "the title"),
    ("--start", "start", "local start time in --tz, e.g. 2026-12-01T19:00"),
    ("--tz", "tz", "IANA time zone of --start (default: TIMEZONE)"),
    ("--duration", "duration", "planned duration in minutes"),
    ("--stream-type", "stream_type", "obs (our player and chat), zoom or telegram"),
    ("--stream-url", "stream_url", "obs: player/HLS .m3u8/embed URL; zoom/telegram: join link"),
    ("--speaker", "speaker", "the host's Telegram id"),
    ("--recording-url", "recording_url", "the recording, offered after the webinar"),
    ("--description", "description", "shown on the public page"),
    ("--chat", "chat", "on|off: the room's internal chat (obs only; default on)"),
    ("--slug", "slug", "the page address /w/<slug> (default: from title and date)"),
    ("--attend-percent", "attend_percent", "attended = present this %% of the live time (50)"),
    ("--attend-minutes", "attend_minutes", "… or at least this many minutes (20)"),
    ("--reminders", "reminders", "reminders before the start: 24h,1h,10m (default), or off"),
)
REQUIRED_ON_CREATE = {"title", "start", "duration", "stream_type", "stream_url"}
# `create --kind auto` only: a recording played on a schedule (`core/auto_webinars.py`).
AUTO_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--kind", "kind", "live (default) or auto: a recording played on a schedule"),
    (
        "--schedule",
        "schedule",
        'auto: "daily 19:00", "weekly mon,thu 19:00", "dates …" or "jit" (only just-in-time)',
    ),
    ("--blackout", "blackout", "auto: local dates without a session, 2026-12-31,2027-01-01"),
    ("--recording-duration", "recording_duration", "auto: the recording's length in minutes"),
)
# What an AUTO webinar takes of the common options (its sessions get the rest from it).
AUTO_FIELDS = {"title", "description", "tz", "recording_url", "chat", "slug"}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `webinar` and its subcommands; each sets `webinar_command`."""
    webinar = sub.add_parser(
        "webinar",
        help="create, list, show and edit webinars; start, stop or cancel one",
        description="Works while the service runs; every change is an event in the log.",
    )
    webinar.set_defaults(webinar_command=None, webinar_parser=webinar)
    cmds = webinar.add_subparsers(title="webinar commands", metavar="COMMAND")
    create = cmds.add_parser("create", help="a new webinar; prints its slug last")
    _draft_options(create, required=REQUIRED_ON_CREATE)
    for option, name, text in AUTO_OPTIONS:
        create.add_argument(option, dest=name, metavar="VALUE", help=text)
    create.add_argument(
        "--just-in-time",
        dest="just_in_time",
        action="store_const",
        const="on",
        help="auto: also a session starting within 15 minutes (at a quarter hour) for "
        "whoever registers",
    )
    create.set_defaults(webinar_command=cmd_create)
    cmds.add_parser("list", help="every webinar, the next first").set_defaults(
        webinar_command=cmd_list
    )
    show = cmds.add_parser("show", help="one webinar in full")
    show.add_argument("webinar", metavar="SLUG")
    show.set_defaults(webinar_command=cmd_show)
    edit = cmds.add_parser("edit", help="change the options given")
    edit.add_argument("webinar", metavar="SLUG")
    _draft_options(edit, required=set())
    edit.set_defaults(webinar_command=cmd_edit)
    status = cmds.add_parser("set-status", help="start (live), stop (finished) or cancel")
    status.add_argument("webinar", metavar="SLUG")
    status.add_argument("status", metavar="STATUS", help=f"one of: {STATUSES}")
    status.set_defaults(webinar_command=cmd_set_status)
    series_cli.add_parser(cmds)


def _draft_options(parser: argparse.ArgumentParser, *, required: set[str]) -> None:
    # Checked by Core, not argparse: a missing one is then one line like any other refusal.
    for option, name, text in OPTIONS:
        help_text = f"{text} (required)" if name in required else text
        parser.add_argument(option, dest=name, metavar="VALUE", help=help_text)


def _draft(args: argparse.Namespace) -> WebinarDraft:
    return WebinarDraft(**{name: getattr(args, name) for _, name, _ in OPTIONS})


def _option(field: str) -> str:
    for option, name, _ in (*OPTIONS, *AUTO_OPTIONS):
        if name == field:
            return option
    return field


def _refusal(exc: WebinarInvalid) -> int:
    return fail(f"{_option(exc.field)}: {exc.text()}")


async def cmd_create(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    kind = (args.kind or "live").strip().lower()
    if kind == "auto":
        return await _create_auto(args, settings, hub, clock)
    if kind != "live":
        return fail(f"--kind: unknown kind {args.kind!r}; one of: live, auto")
    for option, name, _ in (*AUTO_OPTIONS[1:], ("--just-in-time", "just_in_time", "")):
        if getattr(args, name) is not None:
            return fail(f"{option}: only for --kind auto")
    try:
        webinar = await create_webinar(
            hub, clock, _draft(args), actor=None, default_tz=settings.timezone
        )
    except WebinarInvalid as exc:
        return _refusal(exc)
    print(f"created: {webinar.title} — {_when(webinar)}")
    print(f"page: {settings.base_url}/w/{webinar.slug}")
    print(webinar.slug)
    return 0


async def _create_auto(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    for option, name, _ in OPTIONS:
        if name not in AUTO_FIELDS and getattr(args, name) is not None:
            return fail(f"{option}: not for --kind auto (its sessions follow --schedule)")
    draft = AutoDraft(
        **{name: getattr(args, name) for name in AUTO_FIELDS},
        **{name: getattr(args, name) for _, name, _ in AUTO_OPTIONS[1:]},
        just_in_time=args.just_in_time,
    )
    try:
        series = await create_auto_series(
            hub, clock, draft, actor=None, default_tz=settings.timezone
        )
    except WebinarInvalid as exc:
        return _refusal(exc)
    sessions = await plan_sessions(hub, clock, series)
    print(f"created: {series.title} — auto, {series.tz}, {series.recording_duration_min} min")
    print(f"page: {settings.base_url}/w/{series.slug}")
    for session in sessions:
        print(f"session: {_when(session)}  {settings.base_url}/w/{session.slug}")
    if series.schedule.get("jit"):
        print("just-in-time: a session within 15 minutes for whoever registers on the page")
    elif not sessions:
        print("no session in the next 7 days yet")
    print(series.slug)
    return 0


async def _webinar(slug: str) -> Webinar | None:
    webinar = await find_webinar(slug)
    if webinar is None:
        fail(f"no webinar {slug!r} (see `webinar list`)")
    return webinar


async def cmd_edit(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    webinar = await _webinar(args.webinar)
    if webinar is None:
        return 2
    draft = _draft(args)
    if not draft.given:
        return fail("nothing to change: give at least one option (see --help)")
    try:
        webinar, changed = await edit_webinar(hub, clock, webinar.id, draft, actor=None)
    except WebinarInvalid as exc:
        return _refusal(exc)
    print(f"{webinar.slug}: " + (f"changed {', '.join(changed)}" if changed else "no change"))
    return 0


async def cmd_set_status(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    try:
        status = WebinarStatus(args.status.strip().lower())
    except ValueError:
        return fail(f"unknown status {args.status!r}; one of: {STATUSES}")
    webinar = await _webinar(args.webinar)
    if webinar is None:
        return 2
    change = await set_status(hub, clock, webinar.id, status, actor=None)
    if change.outcome is Outcome.ILLEGAL:
        current = WebinarStatus(change.webinar.status).value
        return fail(f"{webinar.slug} is {current}: " + change.reason.format(status=current))
    if change.outcome is Outcome.ALREADY:
        print(f"{webinar.slug} was {status.value} already")
        return 0
    print(f"{webinar.slug}: {WebinarStatus(change.webinar.status).value}")
    return 0


async def cmd_list(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    webinars = await Webinar.all().order_by("-starts_at", "-id")
    if not webinars:
        print("no webinars yet (`webinar create --help`)")
        return 0
    counts = await _registrations([w.id for w in webinars])
    rows = [["SLUG", "START", "STATUS", "STREAM", "REGISTERED", "TITLE"]]
    for w in webinars:
        rows.append(
            [
                w.slug,
                _when(w),
                WebinarStatus(w.status).value,
                w.stream_type.value,
                str(counts.get(w.id, 0)),
                w.title,
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)), row[-1]]))
    return 0


async def _registrations(ids: list[int]) -> dict[int, int]:
    rows = (
        await WebinarRegistration.filter(webinar_id__in=ids)
        .annotate(n=Count("id"))
        .group_by("webinar_id")
        .values_list("webinar_id", "n")
    )
    return {int(webinar_id): int(n) for webinar_id, n in rows}


async def cmd_show(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    webinar = await _webinar(args.webinar)
    if webinar is None:
        return 2
    speaker = await User.get_or_none(id=webinar.speaker_id) if webinar.speaker_id else None
    registered = await WebinarRegistration.filter(webinar_id=webinar.id).count()
    lines = [
        ("title", webinar.title),
        ("slug", webinar.slug),
        ("page", f"{settings.base_url}/w/{webinar.slug}"),
        ("status", WebinarStatus(webinar.status).value),
        ("start", _when(webinar)),
        ("duration", f"{webinar.duration_min} min"),
        ("speaker", _person(speaker)),
        ("stream", f"{webinar.stream_type.value} {webinar.stream_url}"),
        ("chat", "internal" if webinar.chat_enabled else f"the {webinar.stream_type.value} one"),
        ("recording", webinar.recording_url or "—"),
        (
            "attended",
            f"≥ {webinar.attend_min_percent}% of the live time or ≥ "
            f"{webinar.attend_min_minutes} min",
        ),
        ("reminders", _offsets(webinar.reminders)),
        ("registered", str(registered)),
        ("description", webinar.description or "—"),
    ]
    for label, value in lines:
        print(f"{label + ':':13}{value}")
    return 0


def _offsets(seconds: tuple[int, ...]) -> str:
    """`86400, 600` → `24h, 10m before the start` (as `--reminders` takes them)."""
    if not seconds:
        return "off"
    return reminders_text(seconds).replace(",", ", ") + " before the start"


def _person(user: User | None) -> str:
    if user is None:
        return "—"
    return f"{user.telegram_id} {public_name(user)}".strip()


def _when(webinar: Webinar) -> str:
    return f"{local(webinar.starts_at, webinar.tz):%Y-%m-%d %H:%M} {webinar.tz}"
