"""One definition of registered / entered / attended (`core/attendance.py`): entering is
not attending, the latest classification of a webinar decides, each lead counts once."""

from __future__ import annotations

from typing import Any

from core.attendance import Stage, history_of, leads_at
from core.broadcasts import recipients
from core.clock import FakeClock
from models import EventRecord, LeadEntry


async def make_lead(clock: FakeClock, chat_id: int | None = None) -> LeadEntry:
    now = int(clock.now())
    return await LeadEntry.create(
        lead_source="web_form",
        first_touch_at=now,
        lead_created_at=now,
        updated_at=now,
        chat_id=chat_id,
    )


async def log(clock: FakeClock, name: str, lead: LeadEntry, webinar: str, **more: Any) -> None:
    payload = {"lead_id": lead.id, "webinar_id": webinar, "timestamp": int(clock.now()), **more}
    await EventRecord.create(
        name=name, payload=payload, lead_id=lead.id, webinar_id=webinar, created_at=clock.now()
    )
    clock.advance(60)


async def test_each_stage_per_lead_and_webinar(database_url: str, clock: FakeClock) -> None:
    a, b, c = [await make_lead(clock, chat) for chat in (101, 102, 103)]
    for lead in (a, b, c):
        await log(clock, "client_webinar_registered", lead, "1")
    await log(clock, "client_webinar_registered", a, "2")  # a second webinar: still one lead
    await log(clock, "client_webinar_entered", a, "1")
    await log(clock, "client_webinar_entered", c, "1")  # entered, but too briefly
    await log(clock, "client_webinar_attendance_classified", a, "1", attendance="attended")
    await log(clock, "client_webinar_attendance_classified", c, "1", attendance="not_attended")
    # b is classified twice for the same webinar (a re-run): the latest verdict decides.
    await log(clock, "client_webinar_attendance_classified", b, "1", attendance="attended")
    middle = clock.now()
    await log(clock, "client_webinar_attendance_classified", b, "1", attendance="not_attended")

    assert await leads_at(Stage.REGISTERED) == {a.id, b.id, c.id}
    assert await leads_at(Stage.ENTERED) == {a.id, c.id}
    assert await leads_at(Stage.ATTENDED) == {a.id}
    assert await leads_at(Stage.NOT_ATTENDED) == {b.id, c.id}
    assert await leads_at(Stage.ATTENDED, [b.id, c.id]) == set()
    assert await leads_at(Stage.ATTENDED, until=middle) == {a.id, b.id}
    assert await leads_at(Stage.REGISTERED, since=middle) == set()
    # The broadcast segments ask the same module.
    assert await recipients({"kind": "attendance", "value": "attended"}) == [101]
    assert await recipients({"kind": "attendance", "value": "not_attended"}) == [102, 103]
    assert await recipients({"kind": "registered"}) == [101, 102, 103]

    history = await history_of(a.id)
    assert [(w.webinar_id, w.stages) for w in history] == [
        ("1", [Stage.REGISTERED, Stage.ENTERED, Stage.ATTENDED]),
        ("2", [Stage.REGISTERED]),
    ]
    assert [w.stages for w in await history_of(b.id)] == [[Stage.REGISTERED, Stage.NOT_ATTENDED]]
