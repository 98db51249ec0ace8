"""The room's call-to-action form: the speaker shows it, open rooms see it live, a lead
sends it once (CSRF-checked, kept as text) → `client_webinar_form_submitted` → an
application through `core/applications.apply(via="room")`."""

from __future__ import annotations

from core.clock import FakeClock
from core.hub import SignalHub
from core.offers import close_offer, open_offer
from core.webinars import set_status
from models import Application, EventRecord, Role, Webinar, WebinarStatus
from tests.room_support import Visitor, make_lead, make_user, make_webinar, register


async def test_the_speaker_opens_the_form_and_a_viewer_applies_from_the_room(
    room, people, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    candidate = await make_user(clock, 5551, Role.CANDIDATE, chat_id=5551)
    lead = await make_lead(clock, "Анна", user_id=candidate.id)
    await register(hub, clock, webinar, lead)
    anna: Visitor = people()
    await anna.enter(room.links.room_link(webinar, lead.id))
    stream = await anna.stream()
    assert (await stream.until("state")).data["offer"] is False

    speaker_user = await make_user(clock, 901, Role.SPEAKER)
    speaker: Visitor = people()
    await speaker.enter(room.links.speaker_room_link(webinar, speaker_user.id))
    urls = speaker.data["urls"]
    too_early = await anna.post(urls["offer"], {"text": "hi"})
    assert too_early.status == 409  # not shown yet
    shown = await speaker.post(urls["offer_toggle"], {"open": True})
    assert (await shown.json()) == {"ok": True, "changed": True}
    assert (await stream.until("state")).data["offer"] is True  # live, without a reload

    forged = await anna.post(urls["offer"], {"text": "x"}, csrf="forged")
    assert forged.status == 403
    refused = await anna.post(urls["offer_toggle"], {"open": False})
    assert refused.status == 403  # viewers cannot close it

    text = "<script>alert(1)</script> хочу в команду"
    sent = await anna.post(urls["offer"], {"text": text})
    assert sent.status == 200
    assert (await sent.json())["ok"] is True
    again = await anna.post(urls["offer"], {"text": "ещё раз"})
    assert again.status == 200  # told it was sent already; nothing new
    await hub.drain()

    [submitted] = await EventRecord.filter(name="client_webinar_form_submitted")
    assert submitted.payload["lead_id"] == lead.id
    assert submitted.payload["webinar_id"] == str(webinar.id)
    assert submitted.payload["fields"] == {"text": text}  # kept as text
    [application] = await Application.filter(user_id=candidate.id)
    assert application.via == "room"
    assert application.text == text
    assert await EventRecord.filter(name="core_user_applied").count() == 1

    page = await anna.get(anna.data["urls"]["room"])
    assert "<script>alert(1)" not in await page.text()


async def test_the_bot_opens_and_closes_the_offer_through_core(
    clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    assert await open_offer(hub, clock, webinar.id, actor=None) is False  # not live yet
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    assert await open_offer(hub, clock, webinar.id, actor=None) is True
    assert await open_offer(hub, clock, webinar.id, actor=None) is False  # once
    assert (await Webinar.get(id=webinar.id)).offer_open is True
    assert await close_offer(hub, clock, webinar.id, actor=None) is True
    names = [e.name for e in await EventRecord.filter(name__startswith="core_webinar_offer")]
    assert names == ["core_webinar_offer_opened", "core_webinar_offer_closed"]
