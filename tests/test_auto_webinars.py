"""AUTO webinars: sessions planned from the rule once each, blackouts skipped, and the
status driven by the scheduler's job — at the right times, across a restart, in order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast
from zoneinfo import ZoneInfo

import pytest

from core.auto_webinars import (
    AutoDraft,
    create_auto_series,
    occurrences,
    parse_schedule,
    plan_sessions,
)
from core.clock import FakeClock
from core.hub import SignalHub
from core.webinar_rules import WebinarInvalid
from models import AutoSeries, EventRecord, Webinar, WebinarKind, WebinarStatus
from scheduler.auto import POLL_SECONDS, AutoSessions

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()
DAY = 24 * 3600


def at(year: int, month: int, day: int, hour: int, minute: int, tz: ZoneInfo = MSK) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=tz).timestamp()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def series(hub: SignalHub, clock: FakeClock, **changes: str) -> AutoSeries:
    fields = {
        "title": "Автовебинар",
        "schedule": "daily 19:00",
        "tz": "Europe/Moscow",
        "recording_url": "https://cdn.example.com/rec/webinar.m3u8",
        "recording_duration": "60",
    }
    fields.update(changes)
    return await create_auto_series(
        hub, clock, AutoDraft(**fields), actor=None, default_tz="Europe/Moscow"
    )


async def statuses(name: str = "core_webinar_set_status") -> list[tuple[str, str]]:
    rows = await EventRecord.filter(name=name).order_by("id")
    return [(str(e.payload["webinar_id"]), str(e.payload["status"])) for e in rows]


def test_rules_give_local_wall_times_across_a_dst_change() -> None:
    berlin = "Europe/Berlin"  # summer time ends on 2026-10-25
    since = at(2026, 10, 23, 0, 0, tz=ZoneInfo(berlin))
    daily = parse_schedule("daily 19:00", berlin, since)
    starts = occurrences(daily, berlin, [], since, since + 4 * DAY)
    assert [datetime.fromtimestamp(t, ZoneInfo(berlin)).hour for t in starts] == [19] * 4
    assert starts[2] - starts[1] == DAY + 3600  # the day the clocks go back is 25 hours
    weekly = parse_schedule("weekly mon,thu 10:00,19:30", "Europe/Moscow", NOW)
    week = occurrences(weekly, "Europe/Moscow", ["2026-12-03"], NOW, NOW + 7 * DAY)
    assert week == [at(2026, 11, 30, 19, 30), at(2026, 12, 7, 10, 0)]  # Thursday blacked out
    dates = parse_schedule("dates 2026-12-01T19:00,2026-12-03T19:00", "Europe/Moscow", NOW)
    assert occurrences(dates, "Europe/Moscow", [], NOW, NOW + 30 * DAY) == [
        at(2026, 12, 1, 19, 0),
        at(2026, 12, 3, 19, 0),
    ]


@pytest.mark.parametrize(
    "text",
    ["hourly 19:00", "daily", "daily 25:00", "weekly xyz 19:00", "dates 2026-13-01T19:00", ""],
)
def test_a_bad_schedule_is_refused(text: str) -> None:
    with pytest.raises(WebinarInvalid) as exc:
        parse_schedule(text, "Europe/Moscow", NOW)
    assert exc.value.field == "schedule"


def test_a_past_date_is_refused() -> None:
    with pytest.raises(WebinarInvalid, match="in the past"):
        parse_schedule("dates 2026-11-01T19:00", "Europe/Moscow", NOW)


async def test_sessions_are_planned_once_and_blackouts_skipped(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    auto = await series(hub, clock, blackout="2026-12-02")
    first = await plan_sessions(hub, clock, auto, 3 * DAY)
    again = await plan_sessions(hub, clock, auto, 3 * DAY)
    assert again == []
    sessions = await Webinar.filter(series_id=auto.id).order_by("starts_at")
    assert [s.starts_at for s in sessions] == [at(2026, 11, 30, 19, 0), at(2026, 12, 1, 19, 0)]
    assert [s.id for s in first] == [s.id for s in sessions]
    session = sessions[0]
    assert (session.kind, session.status, session.duration_min) == (
        WebinarKind.AUTO,
        WebinarStatus.SCHEDULED,
        60,
    )
    assert session.stream_url == session.recording_url == auto.recording_url
    assert session.slug == f"{auto.slug}-20261130-1900"
    created = await EventRecord.filter(name="core_webinar_created").count()
    assert created == 2  # one event per session, none for the second planning


async def test_the_job_starts_and_finishes_sessions_on_time(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    await series(hub, clock)
    job = AutoSessions(hub, clock, horizon=2 * DAY)
    assert await job.tick() == 0
    session = await Webinar.filter(starts_at=at(2026, 11, 30, 19, 0)).get()
    clock.advance(at(2026, 11, 30, 19, 0) - 1 - clock.now())
    assert await job.tick() == 0
    clock.advance(1)
    assert await job.tick() == 1
    await session.refresh_from_db()
    assert (session.status, session.started_at) == (WebinarStatus.LIVE, clock.now())
    clock.advance(59 * 60 + 59)
    assert await job.tick() == 0
    clock.advance(1)
    assert await job.tick() == 1
    await session.refresh_from_db()
    assert session.status is WebinarStatus.FINISHED
    sid = str(session.id)
    assert await statuses() == [(sid, "live"), (sid, "finished")]


async def test_the_job_wakes_at_the_next_transition_or_within_a_second(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    job = AutoSessions(hub, clock, horizon=2 * DAY, plan_every=7 * DAY)
    assert await job.next_due() == clock.now() + POLL_SECONDS  # nothing planned: it polls
    await series(hub, clock)
    await job.tick()  # plans the next two evenings
    start = at(2026, 11, 30, 19, 0)
    clock.advance(start - 0.25 - clock.now())
    assert await job.next_due() == start  # to the moment, not at the next poll
    clock.advance(0.25)
    assert await job.tick() == 1
    assert await job.next_due() == clock.now() + POLL_SECONDS
    clock.advance(3600 - 0.5)  # half a second before the end
    assert await job.next_due() == start + 3600


async def test_a_restart_mid_session_neither_skips_nor_repeats(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    await series(hub, clock)
    await AutoSessions(hub, clock, horizon=2 * DAY).tick()
    clock.advance(at(2026, 11, 30, 19, 10) - clock.now())
    assert await AutoSessions(hub, clock, horizon=2 * DAY).tick() == 1  # live
    await hub.stop()
    restarted = SignalHub(clock)  # a new runtime on the same database
    try:
        job = AutoSessions(restarted, clock, horizon=2 * DAY)
        assert await job.tick() == 0  # still live: nothing to repeat
        clock.advance(50 * 60)
        assert await job.tick() == 1
    finally:
        await restarted.stop()
    session = await Webinar.filter(starts_at=at(2026, 11, 30, 19, 0)).get()
    sid = str(session.id)
    assert await statuses() == [(sid, "live"), (sid, "finished")]
    starts = await Webinar.filter(kind=WebinarKind.AUTO).values_list("starts_at", flat=True)
    first = at(2026, 11, 30, 19, 0)
    assert sorted(cast("list[float]", starts)) == [first + d * DAY for d in range(3)]  # once


async def test_catching_up_after_downtime_goes_live_then_finished(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    await series(hub, clock)
    await AutoSessions(hub, clock, horizon=2 * DAY).tick()
    clock.advance(at(2026, 11, 30, 21, 0) - clock.now())  # down through the whole session
    assert await AutoSessions(hub, clock, horizon=2 * DAY).tick() == 2
    session = await Webinar.filter(starts_at=at(2026, 11, 30, 19, 0)).get()
    assert session.status is WebinarStatus.FINISHED
    sid = str(session.id)
    assert await statuses() == [(sid, "live"), (sid, "finished")]


async def test_a_paused_series_plans_nothing(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    auto = await series(hub, clock)
    auto.paused = True
    await auto.save()
    assert await plan_sessions(hub, clock, auto, 3 * DAY) == []


async def test_a_webinar_and_a_series_never_share_an_address(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    from core.webinar_rules import WebinarDraft
    from core.webinars import create_webinar, edit_webinar

    auto = await series(hub, clock)
    live = {
        "title": auto.title,  # the same title would give the same base
        "start": "2026-12-20 19:00",
        "duration": "60",
        "stream_type": "obs",
        "stream_url": "https://cdn.example.com/live.m3u8",
    }
    with pytest.raises(WebinarInvalid) as refused:
        await create_webinar(
            hub, clock, WebinarDraft(**live, slug=auto.slug), actor=None, default_tz="UTC"
        )
    assert refused.value.field == "slug"
    other = await create_webinar(hub, clock, WebinarDraft(**live), actor=None, default_tz="UTC")
    assert other.slug != auto.slug
    with pytest.raises(WebinarInvalid):
        await edit_webinar(hub, clock, other.id, WebinarDraft(slug=auto.slug), actor=None)
