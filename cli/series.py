"""`python main.py webinar series ...`: an AUTO webinar's schedule, for an operator.

`list` shows every series with its coming sessions and their registrations; `pause` and
`resume` stop and restart the schedule; `edit --replay-chat-from` names the live run
whose chat replays in each session; `delete` retires a series. The rules (what a pause
does to the planned sessions, when a delete is refused) are Core's
(`core/auto_series_admin.py`); this prints what came of them. Bad input is one line on
stderr and exit status 2, as in the other commands.
"""

from __future__ import annotations

import argparse

from cli.users import fail
from core.auto_series_admin import (
    Change,
    SeriesBusy,
    SeriesGone,
    SeriesView,
    delete_series,
    find_series,
    list_series,
    pause_series,
    resume_series,
    series_view,
    set_replay_source,
)
from core.clock import Clock
from core.hub import SignalHub
from core.present import local
from core.settings import Settings
from core.webinar_rules import WebinarInvalid
from models import AutoSeries, Webinar

NO_REPLAY = "none"


def add_parser(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `webinar series` and its subcommands (each sets `webinar_command`)."""
    series = cmds.add_parser("series", help="AUTO webinars: list, pause, resume, edit, delete")
    series.set_defaults(webinar_command=None, webinar_parser=series)
    sub = series.add_subparsers(title="series commands", metavar="COMMAND")
    sub.add_parser("list", help="every series with its coming sessions").set_defaults(
        webinar_command=cmd_list
    )
    for name, command, text in (
        ("show", cmd_show, "one series and its coming sessions with registrations"),
        ("pause", cmd_pause, "plan no more sessions; remove the planned ones nobody joined"),
        ("resume", cmd_resume, "plan sessions again (the coming ones at once)"),
    ):
        one = sub.add_parser(name, help=text)
        one.add_argument("series", metavar="ID", help="the series' id or slug")
        one.set_defaults(webinar_command=command)
    edit = sub.add_parser("edit", help="change what is given")
    edit.add_argument("series", metavar="ID", help="the series' id or slug")
    edit.add_argument(
        "--replay-chat-from",
        dest="replay_chat_from",
        metavar="WEBINAR_ID",
        help=f"replay this live webinar's chat in each session at its offsets ({NO_REPLAY}: off)",
    )
    edit.set_defaults(webinar_command=cmd_edit)
    delete = sub.add_parser(
        "delete", help="retire a series: its coming sessions are cancelled (registrants told)"
    )
    delete.add_argument("series", metavar="ID", help="the series' id or slug")
    delete.add_argument(
        "--force",
        action="store_true",
        help="also when people registered for coming sessions (they are told)",
    )
    delete.set_defaults(webinar_command=cmd_delete)


def _when(webinar: Webinar) -> str:
    return f"{local(webinar.starts_at, webinar.tz):%Y-%m-%d %H:%M} {webinar.tz}"


def _state(series: AutoSeries) -> str:
    return "paused" if series.paused else "running"


def _print(view: SeriesView, settings: Settings, *, full: bool) -> None:
    series = view.series
    print(
        f"{series.id}  {series.slug}  {_state(series)}  {series.title}  "
        f"coming: {view.coming}, registered: {view.registrations}"
    )
    if not full:
        return
    if series.replay_chat_from_id is not None:
        print(f"  replays the chat of webinar {series.replay_chat_from_id}")
    for session in view.sessions:
        webinar = session.webinar
        print(
            f"  {_when(webinar)}  {webinar.status}  registered: {session.registrations}  "
            f"{settings.base_url}/w/{webinar.slug}"
        )
    if view.coming > len(view.sessions):
        print(f"  … and {view.coming - len(view.sessions)} more")


async def cmd_list(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    views = await list_series(actor=None)
    if not views:
        print("no AUTO webinars yet (`webinar create --kind auto --help`)")
    for view in views:
        _print(view, settings, full=False)
    return 0


async def _series_id(ref: str) -> int | None:
    try:
        return int((await find_series(ref)).id)
    except SeriesGone:
        return None


async def cmd_show(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    if (series_id := await _series_id(args.series)) is None:
        return fail(f"no series {args.series!r} (`webinar series list`)")
    _print(await series_view(series_id, actor=None), settings, full=True)
    return 0


async def cmd_pause(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    if (series_id := await _series_id(args.series)) is None:
        return fail(f"no series {args.series!r} (`webinar series list`)")
    result = await pause_series(hub, clock, series_id, actor=None)
    head = "paused" if result.change is Change.APPLIED else "was paused already"
    print(
        f"{args.series}: {head}; removed {result.removed} session(s) nobody registered "
        f"for, kept {result.kept} with registrations"
    )
    return 0


async def cmd_resume(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    if (series_id := await _series_id(args.series)) is None:
        return fail(f"no series {args.series!r} (`webinar series list`)")
    result = await resume_series(hub, clock, series_id, actor=None)
    head = "resumed" if result.change is Change.APPLIED else "was running already"
    print(f"{args.series}: {head}; planned {result.planned} new session(s)")
    return 0


async def cmd_edit(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    if (series_id := await _series_id(args.series)) is None:
        return fail(f"no series {args.series!r} (`webinar series list`)")
    if args.replay_chat_from is None:
        print(f"{args.series}: no change")
        return 0
    source = None if args.replay_chat_from.strip().lower() == NO_REPLAY else args.replay_chat_from
    try:
        webinar = await set_replay_source(clock, series_id, source, actor=None)
    except WebinarInvalid as exc:
        return fail(f"--replay-chat-from: {exc.text()}")
    if webinar is None:
        print(f"{args.series}: no chat replay")
    else:
        print(f"{args.series}: replays the chat of {webinar.id} ({webinar.slug})")
    return 0


async def cmd_delete(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    if (series_id := await _series_id(args.series)) is None:
        return fail(f"no series {args.series!r} (`webinar series list`)")
    try:
        result = await delete_series(hub, clock, series_id, actor=None, force=args.force)
    except SeriesBusy as exc:
        return fail(exc.reason.format(count=exc.count))
    gone = "removed" if result.removed else "deleted (its sessions are kept for the record)"
    print(f"{args.series}: {gone}; cancelled {result.cancelled} coming session(s)")
    return 0
