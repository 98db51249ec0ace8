"""The public webinar page `/w/<slug>` and registration through it, `/` and the webhook."""

from __future__ import annotations

from typing import Any

import pytest

from core.clock import FakeClock
from core.hub import SignalHub
from core.webinar_rules import WebinarDraft
from core.webinars import create_webinar, edit_webinar, set_status
from models import (
    EventRecord,
    LeadEntry,
    LeadTouch,
    Role,
    User,
    Webinar,
    WebinarRegistration,
    WebinarStatus,
)
from tests.web_support import GOOD, make_client, open_form, post_form

SECRET = "s" * 24


@pytest.fixture
async def client(aiohttp_client: Any, settings: Any, clock: FakeClock, hub: SignalHub) -> Any:
    return await make_client(aiohttp_client, settings, clock, hub, ingest_secrets={"tilda": SECRET})


async def make_webinar(
    hub: SignalHub, clock: FakeClock, title: str = "Партнёрство <b>с нуля</b>", **more: str
) -> Webinar:
    fields = {
        "title": title,
        "start": "2027-02-01T19:00",
        "tz": "Europe/Moscow",
        "duration": "90",
        "stream_type": "obs",
        "stream_url": "https://cdn.example.com/live.m3u8",
        "description": "First paragraph <i>x</i>.\n\nSecond one.",
    }
    fields.update(more)
    return await create_webinar(
        hub, clock, WebinarDraft(**fields), actor=None, default_tz="Europe/Moscow"
    )


async def registrations() -> list[tuple[int, int]]:
    rows = await WebinarRegistration.all().order_by("id").values_list("webinar_id", "lead_id")
    return [(int(w), int(lead)) for w, lead in rows]


async def test_the_page_shows_the_webinar_escaped_with_a_form(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    now = clock.now()
    host = await User.create(
        telegram_id=77,
        role=Role.SPEAKER,
        first_name="Tg",
        display_name="Анна <Спикер>",
        created_at=now,
        updated_at=now,
    )
    webinar = await make_webinar(hub, clock, speaker="77")
    assert webinar.speaker_id == host.id
    response = await client.get(f"/w/{webinar.slug}?ref=p1&utm_source=tg")
    page = await response.text()
    assert response.status == 200
    assert "Партнёрство &lt;b&gt;с нуля&lt;/b&gt;" in page
    assert "<b>с нуля</b>" not in page
    assert "First paragraph &lt;i&gt;x&lt;/i&gt;." in page
    assert "Анна &lt;Спикер&gt;" in page
    assert 'datetime="2027-02-01T16:00:00+00:00"' in page  # 19:00 in Moscow
    assert "2027-02-01 19:00 (Europe/Moscow)" in page
    assert 'data-status="scheduled"' in page
    assert '<input type="hidden" name="ref" value="p1">' in page
    assert '<input type="hidden" name="utm_source" value="tg">' in page
    assert f'action="/w/{webinar.slug}?lang=' in page


async def test_registering_on_the_page_registers_once(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    webinar = await make_webinar(hub, clock)
    url = f"/w/{webinar.slug}"
    token = await open_form(client, url)
    first = await post_form(client, token, url=url, ref="", tz="Asia/Omsk")
    assert first.status == 303
    assert first.headers["Location"].startswith("/thanks")
    thanks = await (await client.get(first.headers["Location"])).text()
    assert "You are registered for" in thanks or "Вы зарегистрированы" in thanks
    assert "Партнёрство &lt;b&gt;с нуля&lt;/b&gt;" in thanks
    # The same person again (another browser, the same phone): still one registration.
    again = await post_form(client, await open_form(client, url), url=url)
    assert again.status == 303
    lead = await LeadEntry.get()
    assert await registrations() == [(webinar.id, lead.id)]
    logged = [e.payload for e in await EventRecord.filter(name="client_webinar_registered")]
    assert [(p["lead_id"], p["webinar_id"], p["source"]) for p in logged] == [
        (lead.id, str(webinar.id), "web_form")
    ]
    touches = [t.webinar_id for t in await LeadTouch.filter(lead_id=lead.id)]
    assert touches == [str(webinar.id), str(webinar.id)]


async def test_bad_input_on_the_page_stores_nothing(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    webinar = await make_webinar(hub, clock)
    url = f"/w/{webinar.slug}"
    response = await post_form(client, await open_form(client, url), url=url, phone="12")
    assert response.status == 422
    page = await response.text()
    assert 'aria-invalid="true"' in page
    assert "Партнёрство" in page  # still the webinar's page
    assert await LeadEntry.all().count() == 0
    assert await registrations() == []


async def test_a_post_without_the_csrf_token_is_refused(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    webinar = await make_webinar(hub, clock)
    await client.get(f"/w/{webinar.slug}")
    response = await client.post(f"/w/{webinar.slug}", data=GOOD, allow_redirects=False)
    assert response.status == 403
    assert await LeadEntry.all().count() == 0


async def test_a_cancelled_or_finished_webinar_takes_no_registration(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    webinar = await make_webinar(hub, clock)
    url = f"/w/{webinar.slug}"
    token = await open_form(client, url)
    await set_status(hub, clock, webinar.id, WebinarStatus.CANCELLED, actor=None)
    response = await post_form(client, token, url=url)
    assert response.status == 409
    page = await response.text()
    assert 'data-status="cancelled"' in page
    assert 'name="phone"' not in page
    assert await LeadEntry.all().count() == 0
    state = await (await client.get(f"{url}/state")).json()
    assert state == {"status": "cancelled", "starts_at": int(webinar.starts_at)}


async def test_unknown_pages_are_404(client: Any) -> None:
    for path in ("/w/nope", "/w/" + "x" * 80, "/w/1", "/w/nope/state"):
        assert (await client.get(path)).status == 404, path


async def test_root_registers_for_the_next_scheduled_webinar(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    # No webinar: `/` only collects the lead, as before.
    assert (await post_form(client)).status == 303
    assert await registrations() == []
    later = await make_webinar(hub, clock, title="Later", start="2027-03-01T19:00")
    sooner = await make_webinar(hub, clock, title="Sooner", start="2027-02-01T19:00")
    page = await (await client.get("/")).text()
    assert f'href="/w/{sooner.slug}">Sooner</a>' in page
    # What the browser posts about a webinar is not trusted: `/` picks the next one itself.
    response = await post_form(client, phone="+7 916 000 00 01", webinar_id=str(later.id))
    assert response.status == 303
    lead = await LeadEntry.get(phone="+79160000001")
    assert await registrations() == [(sooner.id, lead.id)]
    # Rescheduling the sooner one after the later one: `/` follows.
    await edit_webinar(hub, clock, sooner.id, WebinarDraft(start="2027-04-01T19:00"), actor=None)
    await post_form(client, phone="+7 916 000 00 02")
    second = await LeadEntry.get(phone="+79160000002")
    assert (later.id, second.id) in await registrations()


async def test_the_webhook_registers_by_slug_or_id(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    webinar = await make_webinar(hub, clock)
    headers = {"X-Ingest-Secret": SECRET}
    body = {"source": "tilda", "name": "A", "phone": "+79161112233", "webinar": webinar.slug}
    response = await client.post("/api/ingest", json=body, headers=headers)
    assert response.status == 201
    lead_id = (await response.json())["lead_id"]
    body2 = {"source": "tilda", "email": "b@example.com", "webinar_id": str(webinar.id)}
    second = await client.post("/api/ingest", json=body2, headers=headers)
    assert second.status == 201
    lead2 = (await second.json())["lead_id"]
    assert await registrations() == [(webinar.id, lead_id), (webinar.id, lead2)]
    unknown = await client.post("/api/ingest", json={**body, "webinar": "no-such"}, headers=headers)
    assert unknown.status == 422
    assert (await unknown.json())["errors"] == {"webinar": "No webinar with this slug or id."}
    await set_status(hub, clock, webinar.id, WebinarStatus.CANCELLED, actor=None)
    closed = await client.post("/api/ingest", json=body, headers=headers)
    assert (await closed.json())["errors"] == {
        "webinar": "Registration for this webinar is closed."
    }
    assert len(await registrations()) == 2


async def test_the_speakers_approved_photo_comes_from_telegram(
    product: Any, telegram: Any, clock: FakeClock
) -> None:
    from aiohttp import ClientSession

    from tests.review_support import PNG_1X1, send_photo, someone

    fake, _ = telegram
    async with product() as rt:
        anna, anna_user = await someone(rt, fake, clock, "Anna", Role.SPEAKER)
        sent = send_photo(fake, anna, "just a photo")
        await User.filter(id=anna_user.id).update(photo_file_id=sent["photo"][-1]["file_id"])
        webinar = await make_webinar(rt.hub, clock, speaker=str(anna.id))
        port = rt.runner.addresses[0][1]
        async with ClientSession(f"http://127.0.0.1:{port}") as http:
            page = await (await http.get(f"/w/{webinar.slug}")).text()
            assert f'src="/w/{webinar.slug}/speaker"' in page
            photo = await http.get(f"/w/{webinar.slug}/speaker")
            assert photo.status == 200
            assert photo.content_type == "image/png"
            assert await photo.read() == PNG_1X1
            # No approved photo: no picture on the page, and the address answers 404.
            await User.filter(id=anna_user.id).update(photo_file_id=None)
            assert (
                'class="speaker-photo"' not in await (await http.get(f"/w/{webinar.slug}")).text()
            )
            assert (await http.get(f"/w/{webinar.slug}/speaker")).status == 404
