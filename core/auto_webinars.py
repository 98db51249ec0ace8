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
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from tortoise.exceptions import IntegrityError

from core.clock import Clock
from core.events import CoreWebinarCreated
from core.hub import SignalHub
from core.roles import Capability
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
from core.webinars import Outcome, require_capability, set_status, unique_slug
from locales import N_
from models import AutoSeries, StreamType, User, Webinar, WebinarKind, WebinarStatus

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIMES_MAX = 12
DATES_MAX = 100
BLACKOUT_MAX = 366
PLAN_HORIZON_SECONDS = 7 * 24 * 3600
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
SCHEDULE_HELP = N_(
    '{value!r} is not a schedule like "daily 19:00", "weekly mon,thu 19:00" or '
    '"dates 2026-12-01T19:00,2026-12-03T19:00"'
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
    """`daily 19:00[,21:00]`, `weekly mon,thu 19:00`, `dates 2026-12-01T19:00,...`."""
    words = value.strip().lower().split()
    kind = words[0] if words else ""
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


def _at(local: datetime, tz: str) -> float:
    return local.replace(tzinfo=zoneinfo.ZoneInfo(tz)).timestamp()


def occurrences(
    schedule: dict[str, Any], tz: str, blackout: Sequence[str], since: float, until: float
) -> list[float]:
    """The session starts (unix seconds) of the rule in [since, until), blackouts skipped."""
    zone = zoneinfo.ZoneInfo(tz)
    skip = set(blackout)
    found: set[float] = set()
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
    async with hub.transaction() as tx:
        conn = tx.connection
        if draft.slug is not None:
            values["slug"] = parse_slug(draft.slug)
            if await AutoSeries.filter(slug=values["slug"]).using_db(conn).exists():
                raise WebinarInvalid("slug", N_("this slug is taken"))
        else:
            base = slug_base(title, now, tz).rsplit("-", 3)[0] or "auto"
            taken = set(
                cast(
                    "list[str]",
                    await AutoSeries.filter(slug__startswith=base)
                    .using_db(conn)
                    .values_list("slug", flat=True),
                )
            )
            slug, n = base, 2
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
            values["slug"] = slug
        series = AutoSeries(**values, created_at=now, updated_at=now)
        await series.save(using_db=conn)
    return series


def _session_slug_base(series: AutoSeries, starts_at: float) -> str:
    local = datetime.fromtimestamp(starts_at, zoneinfo.ZoneInfo(series.tz))
    return f"{series.slug[:48].rstrip('-')}-{local:%Y%m%d-%H%M}"


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
            planned = set(
                cast(
                    "list[float]",
                    await Webinar.filter(series_id=series.id, starts_at__in=starts)
                    .using_db(conn)
                    .values_list("starts_at", flat=True),
                )
            )
            for starts_at in starts:
                if starts_at in planned:
                    continue
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
                created.append(session)
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
