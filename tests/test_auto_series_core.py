"""The series rules in Core: who may, what a pause keeps, when a delete is refused, which
webinar a chat can be replayed from — without any screen in between."""

from __future__ import annotations

import pytest

from core.auto_series_admin import (
    LIVE_NOW,
    Change,
    SeriesBusy,
    SeriesGone,
    delete_series,
    list_series,
    pause_series,
    resume_series,
    series_view,
    set_replay_source,
)
from core.auto_webinars import AutoDraft, create_auto_series
from core.clock import FakeClock
from core.hub import SignalHub
from core.users import NotAllowed
from core.webinar_rules import WebinarInvalid
from models import AutoSeries, Role, Webinar, WebinarStatus
from scheduler.auto import AutoSessions
from tests.room_support import make_lead, make_user, make_webinar, register


async def a_series(hub: SignalHub, clock: FakeClock) -> AutoSeries:
    draft = AutoDraft(
        title="Авто",
        schedule="daily 19:00",
        tz="Europe/Moscow",
        recording_url="https://cdn.example.com/rec/webinar.m3u8",
        recording_duration="60",
    )
    series = await create_auto_series(hub, clock, draft, actor=None, default_tz="Europe/Moscow")
    await AutoSessions(hub, clock, plan_every=0).tick()
    return series


async def test_rights_are_capabilities(hub: SignalHub, clock: FakeClock) -> None:
    series = await a_series(hub, clock)
    partner = await make_user(clock, 501, Role.PARTNER)
    speaker = await make_user(clock, 502, Role.SPEAKER)
    for command in (
        series_view(series.id, actor=partner),
        list_series(actor=partner),
        pause_series(hub, clock, series.id, actor=partner),
        set_replay_source(clock, series.id, None, actor=partner),
        delete_series(hub, clock, series.id, actor=partner),
    ):
        with pytest.raises(NotAllowed):
            await command
    assert not (await AutoSeries.get(id=series.id)).paused
    assert (await pause_series(hub, clock, series.id, actor=speaker)).change is Change.APPLIED
    again = await resume_series(hub, clock, series.id, actor=speaker)
    assert (again.change, again.planned) == (Change.APPLIED, 7)  # all seven were removed


async def test_a_live_session_blocks_deleting_and_a_replay_needs_a_live_webinar(
    hub: SignalHub, clock: FakeClock
) -> None:
    series = await a_series(hub, clock)
    first = await Webinar.filter(series_id=series.id).order_by("starts_at").first()
    assert first is not None
    await register(hub, clock, first, await make_lead(clock))
    paused = await pause_series(hub, clock, series.id, actor=None)
    assert (paused.removed, paused.kept) == (6, 1)
    clock.advance(first.starts_at - clock.now())
    await AutoSessions(hub, clock, plan_every=0).tick()  # the kept one still runs
    assert (await Webinar.get(id=first.id)).status == WebinarStatus.LIVE
    with pytest.raises(SeriesBusy) as busy:
        await delete_series(hub, clock, series.id, actor=None, force=True)
    assert busy.value.reason == LIVE_NOW

    with pytest.raises(WebinarInvalid):  # an AUTO session is not an original run
        await set_replay_source(clock, series.id, str(first.id), actor=None)
    live = await make_webinar(hub, clock)
    assert (await set_replay_source(clock, series.id, live.slug, actor=None)) == live
    assert (await AutoSeries.get(id=series.id)).replay_chat_from_id == live.id

    clock.advance(3600)
    await AutoSessions(hub, clock, plan_every=0).tick()  # finished: deleting may go on
    done = await delete_series(hub, clock, series.id, actor=None)
    assert (done.cancelled, done.removed) == (0, False)
    with pytest.raises(SeriesGone):
        await series_view(series.id, actor=None)
    assert await list_series(actor=None) == []


async def test_a_planning_that_read_the_series_before_a_pause_plans_nothing(
    hub: SignalHub, clock: FakeClock
) -> None:
    from core.auto_webinars import plan_sessions

    series = await a_series(hub, clock)
    stale = await AutoSeries.get(id=series.id)  # what a planning run read a moment ago
    admin = await make_user(clock, 1, Role.ADMIN)
    await pause_series(hub, clock, series.id, actor=admin)
    clock.advance(3 * 86400)  # days the planning would otherwise fill
    assert await plan_sessions(hub, clock, stale) == []
    assert await Webinar.filter(series_id=series.id, status=WebinarStatus.SCHEDULED).count() == 0
