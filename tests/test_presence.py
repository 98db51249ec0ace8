"""Tracker v2's presence: the arithmetic (tabs, reconnects, visits, live time), and the
room's reports through HTTP — a foreign token refused, left once per visit, the flush
storing seconds without a row per report, a zoom room counting after its click-through."""

from __future__ import annotations

from typing import Any

from core.clock import FakeClock
from core.hub import SignalHub
from core.presence import LEFT_GRACE, TIMEOUT, PresenceTracker, Window
from core.presence_store import flush, recover
from core.webinars import set_status
from models import EventRecord, Webinar, WebinarRegistration, WebinarStatus
from tests.room_support import Visitor, make_lead, make_webinar, register

T0 = 1_800_000_000.0
LIVE = Window(1, started_at=T0, ended_at=None)


def seconds(tracker: PresenceTracker, now: float, lead_id: int = 7) -> float:
    """What a flush at `now` would store for the lead (and mark it stored)."""
    rows, leaving = tracker.collect(now)
    tracker.stored(rows, leaving)
    return sum(r.seconds for r in rows if r.lead.lead_id == lead_id)


# ---- the arithmetic, in memory ------------------------------------------------------


def test_two_tabs_count_once() -> None:
    tracker = PresenceTracker()
    tracker.set_window(LIVE)
    tracker.report(LIVE, 7, "a", "visible", T0)
    tracker.report(LIVE, 7, "b", "visible", T0 + 5)  # a second tab (or device)
    for t in range(15, 61, 15):
        tracker.report(LIVE, 7, "a", "visible", T0 + t)
        tracker.report(LIVE, 7, "b", "visible", T0 + t + 5)
    tracker.report(LIVE, 7, "a", "gone", T0 + 65)
    tracker.report(LIVE, 7, "b", "hidden", T0 + 70)
    assert seconds(tracker, T0 + 80) == 70  # the union, not 65 + 65


def test_a_silent_tab_left_at_its_last_report_and_a_reconnect_continues() -> None:
    tracker = PresenceTracker()
    tracker.set_window(LIVE)
    tracker.report(LIVE, 7, "a", "visible", T0)
    tracker.report(LIVE, 7, "a", "visible", T0 + 15)
    # The network drops: nothing until the timeout has passed — counted to the last report.
    assert seconds(tracker, T0 + 15 + TIMEOUT + 1) == 15
    # The browser reconnects (the same tab) within the grace: the same visit goes on.
    tracker.report(LIVE, 7, "a", "visible", T0 + 100)
    tracker.report(LIVE, 7, "a", "hidden", T0 + 130)
    assert seconds(tracker, T0 + 140) == 30
    _, leaving = tracker.collect(T0 + 130 + LEFT_GRACE)
    assert [g.at for g in leaving] == [T0 + 130]  # one visit, left when last present


def test_leaving_and_coming_back_is_two_visits() -> None:
    tracker = PresenceTracker()
    tracker.set_window(LIVE)
    tracker.report(LIVE, 7, "a", "visible", T0)
    tracker.report(LIVE, 7, "a", "visible", T0 + 30)
    tracker.report(LIVE, 7, "a", "gone", T0 + 60)
    rows, leaving = tracker.collect(T0 + 60 + LEFT_GRACE)
    assert [g.at for g in leaving] == [T0 + 60]
    tracker.stored(rows, leaving)
    assert tracker.collect(T0 + 200)[1] == []  # recorded once
    for t in range(300, 400, 15):
        tracker.report(LIVE, 7, "b", "visible", T0 + t)
    tracker.report(LIVE, 7, "b", "gone", T0 + 400)
    rows, leaving = tracker.collect(T0 + 400 + LEFT_GRACE)
    assert [g.at for g in leaving] == [T0 + 400]
    assert sum(r.seconds for r in rows) == 100


def test_only_live_time_counts() -> None:
    tracker = PresenceTracker()
    scheduled = Window(1, started_at=None, ended_at=None)
    tracker.set_window(scheduled)
    tracker.report(scheduled, 7, "a", "visible", T0 - 120)  # in the room before the start
    assert seconds(tracker, T0 - 100) == 0
    for t in range(-90, 0, 15):
        tracker.report(scheduled, 7, "a", "visible", T0 + t)
    tracker.set_window(LIVE)  # the speaker starts at T0
    tracker.report(LIVE, 7, "a", "visible", T0 + 10)
    tracker.report(LIVE, 7, "a", "visible", T0 + 25)
    assert seconds(tracker, T0 + 30) == 30  # from the start, not from the arrival
    ended = Window(1, started_at=T0, ended_at=T0 + 50)
    tracker.finish(ended)
    rows, leaving = tracker.collect(T0 + 500)
    assert sum(r.seconds for r in rows) == 20  # and not after the stop
    assert [g.at for g in leaving] == [T0 + 50]


def test_a_tab_silent_before_the_stop_is_not_counted_to_the_end() -> None:
    tracker = PresenceTracker()
    tracker.set_window(LIVE)
    for t in range(0, 31, 15):
        tracker.report(LIVE, 7, "a", "visible", T0 + t)
    tracker.report(LIVE, 8, "a", "visible", T0 + 290)  # still there when it stops
    # Lead 7's network drops after T0 + 30; no flush runs before the stop at T0 + 300.
    tracker.finish(Window(1, started_at=T0, ended_at=T0 + 300))
    rows, leaving = tracker.collect(T0 + 400)
    watched = {r.lead.lead_id: r.seconds for r in rows}
    assert watched == {7: 30, 8: 10}
    assert sorted((g.lead_id, g.at) for g in leaving) == [(7, T0 + 30), (8, T0 + 300)]


def test_hidden_stops_counting_unless_the_platform_was_opened() -> None:
    zoom = Window(1, started_at=T0, ended_at=None, external=True)
    tracker = PresenceTracker()
    tracker.set_window(zoom)
    tracker.report(zoom, 7, "a", "visible", T0)
    tracker.report(zoom, 8, "a", "visible", T0)
    tracker.opened.add((1, 8))  # lead 8 clicked "Open Zoom"
    tracker.report(zoom, 7, "a", "hidden", T0 + 10)
    tracker.report(zoom, 8, "a", "hidden", T0 + 10)
    tracker.report(zoom, 8, "a", "hidden", T0 + 100)  # slowed timers of a hidden page
    rows, _ = tracker.collect(T0 + 120)
    got = {r.lead.lead_id: r.seconds for r in rows}
    assert got == {7: 10, 8: 120}


# ---- through the room --------------------------------------------------------------


async def viewer(room, people, clock, hub, webinar: Webinar, name: str = "Анна") -> Visitor:
    lead = await make_lead(clock, name)
    await register(hub, clock, webinar, lead)
    visitor: Visitor = people()
    await visitor.enter(room.links.room_link(webinar, lead.id))
    visitor.lead = lead
    return visitor


async def beat(visitor: Visitor, state: str = "visible", tab: str = "tab1", **kw: Any) -> Any:
    body = {"token": visitor.data["token"], "tab": tab, "state": state, **kw}
    response = await visitor.session.post(
        visitor.base + visitor.data["urls"]["presence"], json=body
    )
    return response.status, await response.json()


async def registration(webinar: Webinar, visitor: Visitor) -> WebinarRegistration:
    return await WebinarRegistration.get(webinar_id=webinar.id, lead_id=visitor.lead.id)


async def lefts(lead_id: int) -> list[dict[str, Any]]:
    rows = await EventRecord.filter(name="client_webinar_left", lead_id=lead_id).order_by("id")
    return [r.payload for r in rows]


async def test_reports_are_counted_in_memory_and_flushed_without_a_row_each(
    room, people, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar)
    assert await beat(anna) == (200, {"ok": True, "present": True})
    for _ in range(4):  # in the room a minute before the start: not counted
        clock.advance(15)
        await beat(anna)
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    await hub.drain()
    events_before = await EventRecord.all().count()
    for _ in range(20):  # five minutes of reports
        clock.advance(15)
        await beat(anna)
    assert await EventRecord.all().count() == events_before  # no row per report
    assert (await registration(webinar, anna)).seconds_present == 0  # not flushed yet
    await flush(room.presence, hub, clock)
    stored = await registration(webinar, anna)
    assert stored.seconds_present == 300
    assert stored.last_seen_at == clock.now()
    assert stored.in_room_since is not None  # a visit is open


async def test_a_report_with_another_leads_or_another_webinars_token_is_refused(
    room, people, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    other = await make_webinar(hub, clock, title="Другой вебинар")
    anna = await viewer(room, people, clock, hub, webinar, "Анна")
    boris = await viewer(room, people, clock, hub, webinar, "Борис")
    elsewhere = await viewer(room, people, clock, hub, other, "Вера")

    status, body = await beat(anna, token=boris.data["token"])
    assert (status, body["error"]) == (403, "not_yours")
    status, body = await beat(anna, token=elsewhere.data["token"])
    assert (status, body["error"]) == (403, "token")
    assert "another" in body["notice"] or "друг" in body["notice"]
    status, body = await beat(anna, token=anna.data["token"][:-1] + "A")
    assert status == 403
    assert room.presence.get(webinar.id, boris.lead.id) is None  # nothing counted for Boris
    assert (await beat(anna))[0] == 200


async def test_left_is_recorded_once_per_visit(
    room, people, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    anna = await viewer(room, people, clock, hub, webinar)
    await beat(anna)
    clock.advance(15)
    await beat(anna)
    clock.advance(5)
    await beat(anna, "hidden")  # she switches to another tab …
    at = clock.now()
    clock.advance(10)
    await flush(room.presence, hub, clock)
    assert await lefts(anna.lead.id) == []  # … within the grace: not left yet
    clock.advance(LEFT_GRACE)
    await flush(room.presence, hub, clock)
    await flush(room.presence, hub, clock)
    [left] = await lefts(anna.lead.id)
    assert left["timestamp"] == int(at)
    assert left["seconds_present"] == 20

    clock.advance(600)  # she comes back: another visit, and another left
    await beat(anna, tab="tab2")
    clock.advance(30)
    await beat(anna, "gone", tab="tab2")
    clock.advance(LEFT_GRACE + 1)
    await flush(room.presence, hub, clock)
    assert [p["seconds_present"] for p in await lefts(anna.lead.id)] == [20, 50]


async def test_a_visit_open_at_a_crash_is_closed_after_the_restart(
    room, people, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    anna = await viewer(room, people, clock, hub, webinar)
    await beat(anna)
    clock.advance(10)
    await flush(room.presence, hub, clock)  # 10 s stored, the visit open
    clock.advance(5)
    await beat(anna)  # these 5 s die with the process (at most one flush interval)

    restarted = PresenceTracker()  # kill -9, then a new process
    assert await recover(restarted, clock) == 1
    clock.advance(LEFT_GRACE + 1)  # she does not come back
    await flush(restarted, hub, clock)
    [left] = await lefts(anna.lead.id)
    assert left["seconds_present"] == 10
    assert (await registration(webinar, anna)).in_room_since is None


async def test_a_zoom_room_counts_after_the_click_through(
    room, people, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(
        hub, clock, stream_type="zoom", stream_url="https://us02web.zoom.us/j/123456789"
    )
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    await hub.drain()
    anna = await viewer(room, people, clock, hub, webinar, "Анна")
    boris = await viewer(room, people, clock, hub, webinar, "Борис")
    for person in (anna, boris):
        await beat(person)
    response = await anna.session.post(
        anna.base + anna.data["urls"]["platform"], json={"token": anna.data["token"]}
    )
    assert (await response.json())["recorded"] is True
    clock.advance(5)
    for person in (anna, boris):  # both go to the Zoom tab; only Anna opened it from here
        await beat(person, "hidden")
    for _ in range(10):
        clock.advance(60)
        await beat(anna, "hidden")
    await flush(room.presence, hub, clock)
    assert (await registration(webinar, anna)).seconds_present == 605
    assert (await registration(webinar, boris)).seconds_present == 5
    assert (await registration(webinar, anna)).platform_opened_at is not None
