"""Just-in-time AUTO sessions: the rounding rule (the first quarter hour at or after the
visitor's moment, so always within 15 minutes), blackout dates and a paused series giving
none, and one session however many visitors ask for the same quarter hour at once."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.auto_webinars import (
    AutoDraft,
    create_auto_series,
    jit_offer,
    jit_session,
    jit_start,
    occurrences,
    parse_schedule,
    plan_sessions,
)
from core.clock import FakeClock
from core.hub import SignalHub
from core.webinar_rules import WebinarInvalid
from models import AutoSeries, EventRecord, Webinar, WebinarKind, WebinarStatus

MSK = ZoneInfo("Europe/Moscow")


def at(hour: int, minute: int, second: int = 0, day: int = 30, tz: ZoneInfo = MSK) -> float:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=tz).timestamp()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(10, 7))


async def jit_series(hub: SignalHub, clock: FakeClock, **changes: str) -> AutoSeries:
    fields = {
        "title": "Автовебинар",
        "schedule": "jit",
        "tz": "Europe/Moscow",
        "recording_url": "https://cdn.example.com/rec/webinar.mp4",
        "recording_duration": "60",
        **changes,
    }
    return await create_auto_series(
        hub, clock, AutoDraft(**fields), actor=None, default_tz="Europe/Moscow"
    )


@pytest.mark.parametrize(
    ("now", "start"),
    [
        (at(10, 7), at(10, 15)),  # the next quarter hour
        (at(10, 14, 59), at(10, 15)),
        (at(10, 15), at(10, 15)),  # exactly on one: that one, starting now
        (at(10, 15, 1), at(10, 30)),  # a second late: the next
        (at(10, 45, 30), at(11, 0)),
        (at(23, 50), at(23, 50) + 600),  # midnight: the next day's first quarter hour
    ],
)
def test_the_rounding_rule(now: float, start: float) -> None:
    assert jit_start(now) == start
    assert 0 <= start - now < 15 * 60


def test_a_quarter_hour_in_a_zone_with_a_45_minute_offset() -> None:
    kathmandu = ZoneInfo("Asia/Kathmandu")  # UTC+5:45
    start = jit_start(datetime(2026, 11, 30, 10, 7, tzinfo=kathmandu).timestamp())
    assert datetime.fromtimestamp(start, kathmandu).strftime("%H:%M:%S") == "10:15:00"


def test_jit_plans_nothing_ahead_and_can_go_with_a_rule() -> None:
    schedule = parse_schedule("jit", "Europe/Moscow", at(10, 7))
    assert schedule == {"kind": "jit", "jit": True}
    assert occurrences(schedule, "Europe/Moscow", [], at(10, 7), at(10, 7) + 7 * 86400) == []
    with pytest.raises(WebinarInvalid):
        parse_schedule("jit 19:00", "Europe/Moscow", at(10, 7))


async def test_a_visitor_gets_the_next_quarter_hour_and_the_same_one_as_others(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    series = await jit_series(hub, clock)
    assert jit_offer(series, clock.now()) == at(10, 15)
    first = await jit_session(hub, clock, series)
    assert first is not None
    assert (first.starts_at, first.kind, first.status) == (
        at(10, 15),
        WebinarKind.AUTO,
        WebinarStatus.SCHEDULED,
    )
    assert (first.series_id, first.duration_min) == (series.id, 60)
    clock.advance(7 * 60 + 59)  # 10:14:59: still that one
    again = await jit_session(hub, clock, series)
    assert again is not None
    assert again.id == first.id
    clock.advance(2)  # 10:15:01: the next one
    later = await jit_session(hub, clock, series)
    assert later is not None
    assert later.starts_at == at(10, 30)
    created = await EventRecord.filter(name="core_webinar_created").count()
    assert created == 2  # one event per session made


async def test_visitors_at_the_same_moment_get_one_session(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    series = await jit_series(hub, clock)
    got = await asyncio.gather(*(jit_session(hub, clock, series) for _ in range(5)))
    assert len({s.id for s in got if s is not None}) == 1
    assert await Webinar.filter(series_id=series.id).count() == 1


async def test_a_blackout_date_or_a_pause_gives_no_jit_session(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    series = await jit_series(hub, clock, blackout="2026-12-01")
    clock.advance(at(23, 50) - clock.now())  # 23:50 on the 30th → 00:00 on the blacked-out 1st
    assert jit_offer(series, clock.now()) is None
    assert await jit_session(hub, clock, series) is None
    clock.advance(at(23, 40, day=30) + 86400 - clock.now())  # 23:40 on the 1st → 23:45
    assert await jit_session(hub, clock, series) is None  # still the 1st
    clock.advance(20 * 60)  # 00:00 on the 2nd
    second = await jit_session(hub, clock, series)
    assert second is not None
    assert datetime.fromtimestamp(second.starts_at, MSK).strftime("%d %H:%M") == "02 00:00"
    series.paused = True
    await series.save()
    clock.advance(60)
    assert await jit_session(hub, clock, series) is None
    assert await Webinar.filter(series_id=series.id).count() == 1


async def test_a_planned_session_at_that_quarter_hour_is_the_jit_one(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    series = await jit_series(hub, clock, schedule="daily 10:15", just_in_time="on")
    assert series.schedule == {"kind": "daily", "times": ["10:15"], "jit": True}
    [planned, *_] = await plan_sessions(hub, clock, series, 86400)
    session = await jit_session(hub, clock, series)
    assert session is not None
    assert session.id == planned.id


async def test_a_recording_that_cannot_start_at_the_live_moment_is_refused(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    with pytest.raises(WebinarInvalid) as exc:
        await jit_series(hub, clock, recording_url="https://vk.com/video_ext.php?oid=1&id=2")
    assert exc.value.field == "recording_url"
    youtube = await jit_series(hub, clock, recording_url="https://youtu.be/dQw4w9WgXcQ")
    assert youtube.recording_url == "https://youtu.be/dQw4w9WgXcQ"
