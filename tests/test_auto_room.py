"""An AUTO session's room and what follows it: the page tells the player the live moment
by the server's clock (a viewer entering 12 minutes in is at minute 12), presence is
measured against the session's timeline and classified by the same rule, and after the
session the not-attended route offers the recording as after a live webinar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.auto_webinars import AutoDraft, create_auto_series, plan_sessions
from core.clock import FakeClock
from core.hub import SignalHub
from core.presence_store import flush
from models import EventRecord, Webinar, WebinarStatus
from sandbox import FakeTelegram
from scheduler.auto import AutoSessions
from tests.room_support import Visitor, make_lead, make_webinar, register, room_data
from tests.webinar_flow_support import at, buttons, person, registered

MSK = ZoneInfo("Europe/Moscow")
MIN = 60
RECORDING = "https://cdn.example.com/rec/webinar.mp4?v=1&t=0"


async def auto_session(hub: SignalHub, clock: FakeClock) -> Webinar:
    """The first session of a daily 19:00 series, an hour long, planned from now."""
    series = await create_auto_series(
        hub,
        clock,
        AutoDraft(
            title="Автовебинар",
            schedule="daily 19:00",
            tz="Europe/Moscow",
            recording_url=RECORDING,
            recording_duration="60",
        ),
        actor=None,
        default_tz="Europe/Moscow",
    )
    [first, *_] = await plan_sessions(hub, clock, series, 2 * 86400)
    return first


@pytest.fixture
async def people(room: Any) -> Any:
    made: list[Visitor] = []

    def visitor() -> Visitor:
        made.append(Visitor(room.base))
        return made[-1]

    yield visitor
    for one in made:
        await one.close()


async def viewer(
    room: Any, people: Any, clock: FakeClock, hub: SignalHub, webinar: Webinar
) -> Visitor:
    lead = await make_lead(clock, "Зритель")
    await register(hub, clock, webinar, lead)
    visitor: Visitor = people()
    visitor.lead = lead
    await visitor.enter(room.links.room_link(webinar, lead.id))
    return visitor


async def beat(visitor: Visitor, state: str = "visible") -> None:
    body = {"token": visitor.data["token"], "tab": "t", "state": state}
    response = await visitor.session.post(
        visitor.base + visitor.data["urls"]["presence"], json=body
    )
    assert response.status == 200


async def test_a_late_joiner_is_told_the_live_moment_by_the_servers_clock(
    room: Any, people: Any, clock: FakeClock, hub: SignalHub
) -> None:
    session = await auto_session(hub, clock)
    job = AutoSessions(hub, clock)
    clock.advance(session.starts_at - clock.now())
    await job.tick()
    await hub.drain()
    clock.advance(12 * MIN)  # twelve minutes in
    late = await viewer(room, people, clock, hub, session)
    data = late.data
    assert data["sync"] is True
    assert data["state"]["stage"] == "player"
    assert data["state"]["player"] == {"kind": "video", "src": RECORDING}
    assert data["now"] - data["state"]["starts_at"] == 12 * MIN  # the player's offset
    # At the recording's end the scheduler finishes it: the room offers the recording.
    clock.advance(48 * MIN)
    assert await job.tick() == 1
    await hub.drain()
    room_page = await late.get(data["urls"]["room"])
    after = room_data(await room_page.text())
    assert after["state"]["stage"] == "finished"
    assert after["state"]["recording"] == {"kind": "video", "src": RECORDING}
    # A live webinar's room plays the stream as it comes: nothing to synchronise.
    live = await make_webinar(hub, clock)
    other = await viewer(room, people, clock, hub, live)
    assert other.data["sync"] is False


async def test_presence_counts_against_the_sessions_timeline_and_is_classified(
    room: Any, people: Any, clock: FakeClock, hub: SignalHub
) -> None:
    session = await auto_session(hub, clock)
    job = AutoSessions(hub, clock)
    anna = await viewer(room, people, clock, hub, session)  # 12 → 30: 18 minutes
    boris = await viewer(room, people, clock, hub, session)  # 12 → 45: 33 minutes
    clock.advance(session.starts_at - clock.now())
    await job.tick()
    await hub.drain()
    clock.advance(12 * MIN)
    for second in range(0, 33 * MIN + 1, 15):  # reports every 15 s while the room is open
        if second <= 18 * MIN:
            await beat(anna, "gone" if second == 18 * MIN else "visible")  # closed at 30
        await beat(boris, "gone" if second == 33 * MIN else "visible")  # closed at 45
        if second < 33 * MIN:
            clock.advance(15)
    await flush(room.presence, hub, clock)
    clock.advance(session.starts_at + 60 * MIN - clock.now())  # the recording's end
    assert await job.tick() == 1  # finished, by the scheduler
    await hub.drain()
    await hub.drain()
    await session.refresh_from_db()
    assert session.status is WebinarStatus.FINISHED
    rows = await EventRecord.filter(
        name="client_webinar_attendance_classified", webinar_id=str(session.id)
    )
    got = {r.payload["lead_id"]: (r.payload["minutes"], r.payload["attendance"]) for r in rows}
    # 18 of 60 minutes: under 50% and under 20 minutes; 33 minutes: over 20.
    assert got == {anna.lead.id: (18, "not_attended"), boris.lead.id: (33, "attended")}
    routes = await EventRecord.filter(name="post_webinar_route", webinar_id=str(session.id))
    assert {r.payload["lead_id"]: r.payload["route"] for r in routes} == {
        anna.lead.id: "not_attended",
        boris.lead.id: "attended",
    }


async def test_after_an_auto_session_the_absent_are_offered_the_recording(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        session = await auto_session(rt.hub, clock)
        job = AutoSessions(rt.hub, clock)
        anna = await person(rt, fake, clock, "Анна")
        await registered(rt, clock, session, anna)
        await at(rt, clock, session.starts_at)
        await job.tick()
        await at(rt, clock, session.starts_at + 60 * MIN)
        await job.tick()  # finished: classified, routed, followed up
        await at(rt, clock, clock.now())
        await at(rt, clock, clock.now())
        route = await EventRecord.get(name="post_webinar_route", webinar_id=str(session.id))
        assert route.payload["route"] == "not_attended"
        (offer,) = [
            m for m in fake.bot_messages(anna.chat_id) if "Запись готова" in m.get("text", "")
        ]
        assert offer["text"].startswith("Анна, нам не хватало вас на вебинаре «Автовебинар»")
        assert buttons(offer) == [("▶️ Смотреть запись", RECORDING)]
