"""AUTO webinars: a recording played on a schedule as if it were live.

An `AutoSeries` holds the recording and the schedule rule; each session is an ordinary
`webinar_event` (kind auto) planned ahead by `plan_sessions`, so registration, reminders,
the room, presence and classification treat it exactly as a live webinar. Planning is
idempotent (one session per series and start, a unique key) and skips blackout dates.
`advance_sessions` drives the status with no speaker: scheduled → live at the start,
live → finished at start + duration, through `core.webinars.set_status` as the system —
the same compare-and-set and events, so a restart neither skips nor repeats a transition.

Rules are local wall times in the series' zone: "daily 19:00" stays 19:00 across a DST
change. A wall time that does not exist that day (the spring-forward gap) is the moment
Python's zoneinfo gives it (fold 0), i.e. shifted by the gap.

Just-in-time (`jit`, alone or with a rule): a visitor who registers gets "the next
session starting within 15 minutes, at a quarter hour" — made on demand by `jit_session`,
the same row for everyone who asks for that quarter hour (the unique (series, start) key
decides, not a read-then-write). The page offers the planned sessions and that one
(`offered_sessions`, `jit_offer`); `choose_session` is the one check of a visitor's pick.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from tortoise.exceptions import IntegrityError

from core.clock import Clock
from core.events import CoreWebinarCreated
from core.hub import Publisher, SignalHub
from core.roles import Capability
from core.room import player_for
from core.webinar_rules import (
    DESCRIPTION_MAX,
    DURATION_MAX_MIN,
    WebinarInvalid,
    check_chat,
    check_stream_url,
    clean_text,
    parse_int,
    parse_slug,
    parse_title,
    parse_tz,
    parse_url,
    slug_base,
)
from core.webinars import Outcome, require_capability, set_status, slug_taken, unique_slug
from locales import N_
from models import AutoSeries, StreamType, User, Webinar, WebinarKind, WebinarStatus

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIMES_MAX = 12
DATES_MAX = 100
BLACKOUT_MAX = 366
PLAN_HORIZON_SECONDS = 7 * 24 * 3600
JIT_STEP_SECONDS = 15 * 60  # just-in-time sessions start at a quarter hour
OFFERED_MAX = 12  # planned sessions the page offers
YOUTUBE_EMBED = "https://www.youtube.com/embed/"  # what `core.room` makes of YouTube links
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
SCHEDULE_HELP = N_(
    '{value!r} is not a schedule like "daily 19:00", "weekly mon,thu 19:00", '
    '"dates 2026-12-01T19:00,2026-12-03T19:00" or "jit"'
)


@dataclass
class AutoDraft:
    """What was typed for a new AUTO webinar, as strings."""

    title: str | None = None
    description: str | None = None
    tz: str | None = None
    schedule: str | None = None
    blackout: str | None = None  # 2026-12-31,2027-01-01 (local dates)
    recording_url: str | None = None
    recording_duration: str | None = None  # minutes
    chat: str | None = None  # on | off
    slug: str | None = None
    just_in_time: str | None = None  # on | off: also the just-in-time session
    given: set[str] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        self.given = {k for k, v in vars(self).items() if k != "given" and v is not None}


REQUIRED = ("title", "schedule", "recording_url", "recording_duration")


def _times(words: Sequence[str], value: str) -> list[str]:
    times = sorted({w.strip() for part in words for w in part.split(",") if w.strip()})
    if not times or len(times) > TIMES_MAX:
        raise WebinarInvalid("schedule", SCHEDULE_HELP, value=value)
    out = []
    for t in times:
        m = _HHMM.match(t)
        if m is None:
            raise WebinarInvalid("schedule", SCHEDULE_HELP, value=value)
        out.append(f"{int(m.group(1)):02d}:{m.group(2)}")
    return sorted(set(out))


def parse_schedule(value: str, tz: str, now: float) -> dict[str, Any]:
    """`daily 19:00[,21:00]`, `weekly mon,thu 19:00`, `dates 2026-12-01T19:00,...`, or
    `jit` (only just-in-time sessions: nothing is planned ahead)."""
    words = value.strip().lower().split()
    kind = words[0] if words else ""
    if kind == "jit" and len(words) == 1:
        return {"kind": "jit", "jit": True}
    if kind == "daily" and len(words) >= 2:
        return {"kind": "daily", "times": _times(words[1:], value)}
    if kind == "weekly" and len(words) >= 3:
        names = [d.strip() for d in words[1].split(",") if d.strip()]
        if not names or any(d not in DAYS for d in names):
            raise WebinarInvalid("schedule", SCHEDULE_HELP, value=value)
        days = sorted({DAYS.index(d) for d in names})
        return {"kind": "weekly", "days": days, "times": _times(words[2:], value)}
    if kind == "dates" and len(words) >= 2:
        parts = [p.strip() for w in words[1:] for p in w.split(",") if p.strip()]
        if not parts or len(parts) > DATES_MAX:
            raise WebinarInvalid("schedule", SCHEDULE_HELP, value=value)
        dates = set()
        for part in parts:
            try:
                moment = datetime.fromisoformat(part.replace(" ", "T", 1))
            except ValueError:
                raise WebinarInvalid("schedule", SCHEDULE_HELP, value=value) from None
            if moment.tzinfo is not None:
                raise WebinarInvalid("schedule", SCHEDULE_HELP, value=value)
            if _at(moment, tz) <= now:
                raise WebinarInvalid("schedule", N_("{value!r} is in the past"), value=part)
            dates.add(moment.strftime("%Y-%m-%dT%H:%M"))
        return {"kind": "dates", "dates": sorted(dates)}
    raise WebinarInvalid("schedule", SCHEDULE_HELP, value=value)


def parse_blackout(value: str) -> list[str]:
    """`2026-12-31,2027-01-01` → the local dates on which no session is planned."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) > BLACKOUT_MAX:
        raise WebinarInvalid("blackout", N_("at most {count} dates"), count=BLACKOUT_MAX)
    days = set()
    for part in parts:
        try:
            days.add(date.fromisoformat(part).isoformat())
        except ValueError:
            raise WebinarInvalid(
                "blackout", N_("{value!r} is not a date like 2026-12-31"), value=part
            ) from None
    return sorted(days)


def check_recording(url: str) -> str:
    """A recording the room can start at the live moment: a video file or an HLS playlist
    (the browser seeks it) or a YouTube link (its embed takes `start=`). Other players
    would show every late joiner the beginning, so they are refused."""
    player = player_for(url)
    if player is None or (player.kind == "iframe" and not player.src.startswith(YOUTUBE_EMBED)):
        raise WebinarInvalid(
            "recording_url",
            N_(
                "{value!r} cannot be started at the live moment: give a video file "
                "(.mp4, .webm), an HLS playlist (.m3u8) or a YouTube link"
            ),
            value=url,
        )
    return url


def _on_off(value: str | None, field_name: str) -> bool:
    wanted = (value or "off").strip().lower()
    if wanted not in ("on", "off"):
        raise WebinarInvalid(field_name, N_("this is on or off"))
    return wanted == "on"


def _at(local: datetime, tz: str) -> float:
    return local.replace(tzinfo=zoneinfo.ZoneInfo(tz)).timestamp()


def occurrences(
    schedule: dict[str, Any], tz: str, blackout: Sequence[str], since: float, until: float
) -> list[float]:
    """The session starts (unix seconds) of the rule in [since, until), blackouts skipped."""
    zone = zoneinfo.ZoneInfo(tz)
    skip = set(blackout)
    found: set[float] = set()
    if schedule["kind"] == "jit":
        return []
    if schedule["kind"] == "dates":
        for text in schedule["dates"]:
            moment = datetime.fromisoformat(text)
            if moment.date().isoformat() not in skip:
                found.add(_at(moment, tz))
    else:
        days = set(schedule.get("days", range(7)))
        day = datetime.fromtimestamp(since, zone).date() - timedelta(days=1)
        last = datetime.fromtimestamp(until, zone).date() + timedelta(days=1)
        while day <= last:
            if day.weekday() in days and day.isoformat() not in skip:
                for hhmm in schedule["times"]:
                    hours, minutes = (int(x) for x in hhmm.split(":"))
                    found.add(_at(datetime.combine(day, time(hours, minutes)), tz))
            day += timedelta(days=1)
    return sorted(t for t in found if since <= t < until)


async def create_auto_series(
    hub: SignalHub, clock: Clock, draft: AutoDraft, *, actor: User | None, default_tz: str
) -> AutoSeries:
    """A new AUTO webinar from `draft` (`webinar_create`); its sessions come from planning."""
    await require_capability(actor, Capability.WEBINAR_CREATE)
    for name in REQUIRED:
        if name not in draft.given:
            raise WebinarInvalid(name, N_("this is needed"))
    now = clock.now()
    tz = parse_tz(draft.tz) if draft.tz is not None else default_tz
    title = parse_title(draft.title or "")
    values: dict[str, Any] = {
        "title": title,
        "description": clean_text(
            draft.description or "", DESCRIPTION_MAX, "description", multiline=True
        ),
        "tz": tz,
        "schedule": parse_schedule(draft.schedule or "", tz, now),
        "blackout": parse_blackout(draft.blackout or ""),
        "recording_url": check_stream_url(
            StreamType.OBS, parse_url(draft.recording_url or "", "recording_url")
        ),
        "recording_duration_min": parse_int(
            draft.recording_duration or "", "recording_duration", 1, DURATION_MAX_MIN
        ),
        "chat_enabled": check_chat(StreamType.OBS, draft.chat),
    }
    check_recording(values["recording_url"])
    if _on_off(draft.just_in_time, "just_in_time"):
        values["schedule"]["jit"] = True
    async with hub.transaction() as tx:
        conn = tx.connection
        if draft.slug is not None:
            values["slug"] = parse_slug(draft.slug)
            if await slug_taken(conn, values["slug"]):
                raise WebinarInvalid("slug", N_("this slug is taken"))
        else:
            base = slug_base(title, now, tz).rsplit("-", 3)[0] or "auto"
            values["slug"] = await unique_slug(conn, base)
        series = AutoSeries(**values, created_at=now, updated_at=now)
        await series.save(using_db=conn)
    return series


def _session_slug_base(series: AutoSeries, starts_at: float) -> str:
    local = datetime.fromtimestamp(starts_at, zoneinfo.ZoneInfo(series.tz))
    return f"{series.slug[:48].rstrip('-')}-{local:%Y%m%d-%H%M}"


async def _new_session(tx: Publisher, series: AutoSeries, starts_at: float, now: float) -> Webinar:
    """One session of `series` at `starts_at`, with its `core_webinar_created`, in `tx`."""
    conn = tx.connection
    session = Webinar(
        slug=await unique_slug(conn, _session_slug_base(series, starts_at)),
        title=series.title,
        description=series.description,
        kind=WebinarKind.AUTO,
        starts_at=starts_at,
        duration_min=series.recording_duration_min,
        tz=series.tz,
        stream_type=StreamType.OBS,
        stream_url=series.recording_url,
        recording_url=series.recording_url,
        chat_enabled=series.chat_enabled,
        series_id=series.id,
        created_at=now,
        updated_at=now,
    )
    await session.save(using_db=conn)
    await tx.publish(
        CoreWebinarCreated(
            timestamp=int(now),
            webinar_id=session.webinar_id,
            slug=session.slug,
            title=session.title,
            starts_at=int(session.starts_at),
            stream_type=StreamType.OBS.value,
            actor="system",
            actor_user_id=None,
        )
    )
    return session


async def plan_sessions(
    hub: SignalHub, clock: Clock, series: AutoSeries, horizon: float = PLAN_HORIZON_SECONDS
) -> list[Webinar]:
    """Create the series' sessions starting within `horizon` seconds from now, once each.

    Returns the sessions this call created (each with its `core_webinar_created`). A
    session already planned (by an earlier call or another process) is left alone; a
    paused series plans nothing.
    """
    if series.paused:
        return []
    now = clock.now()
    starts = occurrences(series.schedule, series.tz, series.blackout, now, now + horizon)
    if not starts:
        return []
    created: list[Webinar] = []
    try:
        async with hub.transaction() as tx:
            conn = tx.connection
            # Paused meanwhile? The row is locked (PostgreSQL; SQLite runs one transaction
            # at a time): a pause either waits for these sessions and removes them, or
            # lands first and this plans nothing.
            running = (
                await AutoSeries.filter(id=series.id, paused=False)
                .using_db(conn)
                .select_for_update()
                .values_list("id", flat=True)
            )
            if not running:
                return []
            planned = set(
                cast(
                    "list[float]",
                    await Webinar.filter(series_id=series.id, starts_at__in=starts)
                    .using_db(conn)
                    .values_list("starts_at", flat=True),
                )
            )
            for starts_at in starts:
                if starts_at not in planned:
                    created.append(await _new_session(tx, series, starts_at, now))
    except IntegrityError:  # another process planned the same start first: all is planned
        return []
    return created


async def plan_all(hub: SignalHub, clock: Clock, horizon: float = PLAN_HORIZON_SECONDS) -> int:
    """Plan every running series ahead; the number of sessions created."""
    count = 0
    for series in await AutoSeries.filter(paused=False).order_by("id"):
        count += len(await plan_sessions(hub, clock, series, horizon))
    return count


async def advance_sessions(hub: SignalHub, clock: Clock) -> int:
    """Move every due AUTO session on: live at its start, finished at start + duration.

    Catching up after downtime, a session whose end has passed goes live then finished,
    in that order. Each step is `set_status` (compare-and-set): a session another process
    moved already is left as it is. Returns the number of transitions applied.
    """
    now = clock.now()
    applied = 0
    due = (
        await Webinar.filter(
            kind=WebinarKind.AUTO,
            status__in=[WebinarStatus.SCHEDULED, WebinarStatus.LIVE],
            starts_at__lte=now,
        )
        .order_by("starts_at", "id")
        .values_list("id", "status", "starts_at", "duration_min")
    )
    for webinar_id, status, starts_at, duration_min in due:
        steps = []
        if WebinarStatus(status) is WebinarStatus.SCHEDULED:
            steps.append(WebinarStatus.LIVE)
        if starts_at + duration_min * 60 <= now:
            steps.append(WebinarStatus.FINISHED)
        for step in steps:
            change = await set_status(hub, clock, webinar_id, step, actor=None)
            applied += change.outcome is Outcome.APPLIED
    return applied


async def next_transition_at() -> float | None:
    """When the next AUTO session is due to go live or to finish; None when none is
    scheduled or live (the job's waker sleeps until then, `scheduler/auto.py`)."""
    first = (
        await Webinar.filter(kind=WebinarKind.AUTO, status=WebinarStatus.SCHEDULED)
        .order_by("starts_at")
        .limit(1)
        .values_list("starts_at", flat=True)
    )
    live = await Webinar.filter(kind=WebinarKind.AUTO, status=WebinarStatus.LIVE).values_list(
        "starts_at", "duration_min"
    )
    due = [float(cast("float", at)) for at in first]
    due += [starts_at + duration_min * 60 for starts_at, duration_min in live]
    return min(due, default=None)


# ---- just-in-time sessions and the visitor's choice -----------------------------------


def jit_start(now: float) -> float:
    """The just-in-time start for a visitor at `now`: the first quarter hour at or after it.

    10:07 → 10:15; 10:15:00 exactly → 10:15 (starting now); 10:15:01 → 10:30. So the wait
    is always under 15 minutes. Every zone's offset is a whole number of quarter hours, so
    a quarter hour of unix time is one in the series' zone too.
    """
    return float(math.ceil(now / JIT_STEP_SECONDS) * JIT_STEP_SECONDS)


def jit_offer(series: AutoSeries, now: float) -> float | None:
    """When the just-in-time session a visitor gets now starts; None when the series has
    none to give (not enabled, paused, or that start falls on a blackout date)."""
    if not series.schedule.get("jit") or series.paused:
        return None
    starts_at = jit_start(now)
    day = datetime.fromtimestamp(starts_at, zoneinfo.ZoneInfo(series.tz)).date()
    return None if day.isoformat() in series.blackout else starts_at


async def jit_session(hub: SignalHub, clock: Clock, series: AutoSeries) -> Webinar | None:
    """The just-in-time session for a visitor registering now, made if it is not yet.

    Two visitors in the same quarter hour get the same row: the unique (series, start)
    key lets one insert win and the other reads the winner's row. A planned session at
    that start (a rule's 19:00) is the same session too.
    """
    starts_at = jit_offer(series, clock.now())
    if starts_at is None:
        return None
    found = await Webinar.get_or_none(series_id=series.id, starts_at=starts_at)
    if found is not None:
        return found
    try:
        async with hub.transaction() as tx:
            return await _new_session(tx, series, starts_at, clock.now())
    except IntegrityError:  # made by another visitor between our read and our insert
        return await Webinar.get(series_id=series.id, starts_at=starts_at)


def _blacked_out(series: AutoSeries, starts_at: float) -> bool:
    day = datetime.fromtimestamp(starts_at, zoneinfo.ZoneInfo(series.tz)).date()
    return day.isoformat() in series.blackout


async def offered_sessions(
    series: AutoSeries, now: float, limit: int = OFFERED_MAX
) -> list[Webinar]:
    """The planned sessions a visitor may choose: scheduled, not started, not on a
    blackout date (added after planning); none while the series is paused."""
    if series.paused:
        return []
    upcoming = (
        await Webinar.filter(series_id=series.id, status=WebinarStatus.SCHEDULED, starts_at__gt=now)
        .order_by("starts_at", "id")
        .limit(limit + len(series.blackout))
    )
    return [s for s in upcoming if not _blacked_out(series, s.starts_at)][:limit]


class SessionRefused(Exception):
    """The visitor's pick cannot be registered for; `text` says why (a msgid)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


NOT_IN_SERIES = N_("This session is not one of this webinar's. Please choose one from the list.")
ENDED = N_("This session has already ended. Please choose another one.")
CANCELLED = N_("This session was cancelled. Please choose another one.")
PAUSED = N_("Registration for this webinar is paused. Please come back later.")
NO_JIT = N_("There is no session starting soon. Please choose one from the list.")
CHOOSE = N_("Please choose a session.")


async def choose_session(hub: SignalHub, clock: Clock, series: AutoSeries, choice: str) -> Webinar:
    """The session a visitor picked on the series' page (`jit` or a session's id).

    Refused (`SessionRefused`) when it is not one of this series' sessions, has ended or
    was cancelled, lies on a blackout date, or the series is paused. A live one is taken:
    the late joiner watches from the live moment, like a latecomer to a live webinar.
    """
    choice = choice.strip().lower()
    if series.paused:
        raise SessionRefused(PAUSED)
    if choice == "jit":
        session = await jit_session(hub, clock, series)
        if session is None:
            raise SessionRefused(NO_JIT)
    elif choice.isdigit() and len(choice) <= 18:
        session = await Webinar.get_or_none(id=int(choice), series_id=series.id)
        if session is None or _blacked_out(series, session.starts_at):
            raise SessionRefused(NOT_IN_SERIES)
    else:
        raise SessionRefused(CHOOSE if not choice else NOT_IN_SERIES)
    status = WebinarStatus(session.status)
    if status is WebinarStatus.FINISHED:
        raise SessionRefused(ENDED)
    if status is WebinarStatus.CANCELLED:
        raise SessionRefused(CANCELLED)
    return session
