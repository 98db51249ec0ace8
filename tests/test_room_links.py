"""The personal room link (tracker v2's redirect) and the speaker link: signed, bound to one
person and one webinar, expiring; the entry recorded once; refusals as clear pages."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

from core.clock import FakeClock
from core.hub import SignalHub
from core.room_tokens import LINK_GRACE, RoomTokens, TokenKind
from core.webinars import set_status
from models import EventRecord, Role, WebinarRegistration, WebinarStatus
from tests.room_support import (
    Visitor,
    make_lead,
    make_user,
    make_webinar,
    register,
)

SECRET = "test-secret-key-" + "x" * 32


@pytest.fixture
async def visitor(room):
    visitor = Visitor(room.base)
    yield visitor
    await visitor.close()


async def entered_events() -> list[dict[str, object]]:
    return [e.payload for e in await EventRecord.filter(name="client_webinar_entered")]


async def test_the_personal_link_records_the_entry_once_and_opens_the_room(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    lead = await make_lead(clock)
    await register(hub, clock, webinar, lead)
    link = room.links.room_link(webinar, lead.id)
    assert link.startswith(f"{room.base}/t/{webinar.id}/{lead.id}.")

    response = await visitor.session.get(link, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/w/{webinar.slug}/room"
    cookie = SimpleCookie(response.headers["Set-Cookie"])["funnel_room"]
    assert cookie["path"] == f"/w/{webinar.slug}/room"
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == int(webinar.ends_at + LINK_GRACE - clock.now())
    page = await visitor.get(response.headers["Location"])
    assert page.status == 200
    assert "Не закрывайте страницу: трансляция появится здесь сама" in await page.text()

    [event] = await entered_events()
    assert event == {
        "timestamp": int(clock.now()),
        "webinar_id": str(webinar.id),
        "lead_id": lead.id,
        "via": "link",
    }
    registration = await WebinarRegistration.get(webinar_id=webinar.id, lead_id=lead.id)
    assert registration.entered_at == clock.now()

    clock.advance(600)  # the lead comes back later, from another device
    other = Visitor(room.base)
    try:
        await other.enter(link)
    finally:
        await other.close()
    assert len(await entered_events()) == 1
    await registration.refresh_from_db()
    assert registration.entered_at == clock.now() - 600  # the first entry stays


@pytest.mark.parametrize("case", ["forged", "other lead", "other webinar", "speaker kind", "junk"])
async def test_a_bad_token_gets_a_clear_page_and_records_nothing(
    room, visitor, clock: FakeClock, hub: SignalHub, case: str
) -> None:
    webinar = await make_webinar(hub, clock)
    other_webinar = await make_webinar(hub, clock, title="Другой вебинар")
    lead, victim = await make_lead(clock), await make_lead(clock, "Борис")
    await register(hub, clock, webinar, lead)
    await register(hub, clock, webinar, victim)
    tokens = RoomTokens(SECRET)
    good = tokens.mint(TokenKind.LEAD, webinar.id, lead.id)
    token = {
        "forged": good[:-1] + ("A" if good[-1] != "A" else "B"),
        "other lead": f"{victim.id}.{good.split('.')[1]}",  # someone else's id, my MAC
        "other webinar": tokens.mint(TokenKind.LEAD, other_webinar.id, lead.id),
        "speaker kind": tokens.mint(TokenKind.SPEAKER, webinar.id, lead.id),
        "junk": "%3Cscript%3E",
    }[case]

    response = await visitor.get(f"/t/{webinar.id}/{token}")

    assert response.status == 403
    page = await response.text()
    assert "Эта ссылка не открывает комнату" in page
    assert "<script>" not in page
    assert "Set-Cookie" not in response.headers
    assert await entered_events() == []
    assert await WebinarRegistration.filter(entered_at__isnull=False).count() == 0


async def test_an_unknown_webinar_and_an_expired_link_are_refused(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    lead = await make_lead(clock)
    await register(hub, clock, webinar, lead)
    token = RoomTokens(SECRET).mint(TokenKind.LEAD, webinar.id, lead.id)

    unknown = await visitor.get(f"/t/{webinar.id + 100}/{token}")
    assert unknown.status == 403

    # Valid until a week after the planned end: then a page that says it expired.
    clock.advance(webinar.ends_at + LINK_GRACE - clock.now())
    assert (await visitor.get(f"/t/{webinar.id}/{token}")).status == 303
    clock.advance(1)
    expired = await visitor.get(f"/t/{webinar.id}/{token}?lang=en")
    assert expired.status == 403
    assert "This link has expired" in await expired.text()
    assert len(await entered_events()) == 1  # only the entry while it was valid


async def test_a_valid_link_of_a_lead_not_registered_registers_them_on_entry(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    lead = await make_lead(clock)

    await visitor.enter(room.links.room_link(webinar, lead.id))

    registration = await WebinarRegistration.get(webinar_id=webinar.id, lead_id=lead.id)
    assert (registration.source, registration.entered_at) == ("room_link", clock.now())
    [registered] = await EventRecord.filter(name="client_webinar_registered")
    assert registered.payload["source"] == "room_link"
    assert len(await entered_events()) == 1


async def test_after_the_webinar_the_link_shows_the_room_but_records_no_entry(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock, recording_url="https://youtu.be/dQw4w9WgXcQ")
    lead = await make_lead(clock)
    await register(hub, clock, webinar, lead)
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    await set_status(hub, clock, webinar.id, WebinarStatus.FINISHED, actor=None)

    page = await visitor.enter(room.links.room_link(webinar, lead.id))

    assert "Вебинар закончился" in await page.text()
    assert await entered_events() == []


async def test_a_link_preview_robot_records_nothing(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    lead = await make_lead(clock)
    await register(hub, clock, webinar, lead)
    link = room.links.room_link(webinar, lead.id)

    robot = {"User-Agent": "TelegramBot (like TwitterBot)"}
    response = await visitor.session.get(link, allow_redirects=False, headers=robot)
    assert response.status == 303
    assert "Set-Cookie" not in response.headers
    head = await visitor.session.head(link, allow_redirects=False)
    assert head.status == 405  # a link checker's HEAD is no entry either
    assert await entered_events() == []


async def test_the_room_without_a_session_shows_the_way_in(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    other = await make_webinar(hub, clock, title="Другой")
    lead = await make_lead(clock)
    await visitor.enter(room.links.room_link(webinar, lead.id))
    [cookie] = [c for c in visitor.session.cookie_jar if c.key == "funnel_room"]

    gate = await visitor.get(f"/w/{other.slug}/room")
    assert gate.status == 403
    assert "Комната открывается по вашей личной ссылке" in await gate.text()
    # The cookie is scoped to its room; carried by hand to another room it is refused.
    stolen = await visitor.get(
        f"/w/{other.slug}/room", headers={"Cookie": f"funnel_room={cookie.value}"}
    )
    assert stolen.status == 403
    events = await visitor.get(f"/w/{other.slug}/room/events")
    assert events.status == 403
    assert (await visitor.get("/w/no-such-webinar/room")).status == 404


async def test_the_speaker_link_opens_the_room_for_moderation_only_for_a_speaker(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    speaker = await make_user(clock, 501, Role.SPEAKER, first_name="Мария")
    partner = await make_user(clock, 502, Role.PARTNER)
    link = room.links.speaker_room_link(webinar, speaker.id)
    assert link.startswith(f"{room.base}/t/{webinar.id}/speaker/{speaker.id}.")

    await visitor.enter(link)
    assert visitor.data["me"] == {"speaker": True, "muted": False}
    assert await entered_events() == []  # a speaker is not an attendee

    # A lead's token is no speaker's, and a partner cannot moderate.
    lead_token = RoomTokens(SECRET).mint(TokenKind.LEAD, webinar.id, speaker.id)
    assert (await visitor.get(f"/t/{webinar.id}/speaker/{lead_token}")).status == 403
    refused = await visitor.get(
        room.links.speaker_room_link(webinar, partner.id).removeprefix(room.base) + "?lang=en"
    )
    assert refused.status == 403
    assert "This link is for speakers" in await refused.text()
