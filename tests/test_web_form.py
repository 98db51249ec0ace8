"""The registration form through aiohttp's test client, on a real database."""

from __future__ import annotations

import pytest
from markupsafe import escape

from models import EventRecord, LeadEntry, LeadTouch
from tests.web_support import GOOD, field_block, make_client, open_form, post_form
from web import keys

HOSTILE = "\"'><script>alert('x')</script>"


@pytest.fixture
async def client(aiohttp_client, settings, clock, hub):
    return await make_client(aiohttp_client, settings, clock, hub)


async def test_form_carries_ref_and_utm_from_the_link(client):
    url = "/?ref=abc&utm_source=x&utm_medium=cpc&utm_campaign=spring&utm_content=c1&utm_term=t"
    response = await client.get(url)
    page = await response.text()
    assert response.status == 200
    for name, value in [
        ("ref", "abc"),
        ("utm_source", "x"),
        ("utm_medium", "cpc"),
        ("utm_campaign", "spring"),
        ("utm_content", "c1"),
        ("utm_term", "t"),
        ("tz", ""),
    ]:
        assert f'<input type="hidden" name="{name}" value="{value}">' in page
    assert 'name="csrf_token"' in page
    assert "funnel_csrf" in response.cookies
    phone = field_block(page, "phone")
    assert 'type="tel"' in phone
    assert 'inputmode="tel"' in phone
    assert 'autocomplete="tel"' in phone
    assert '<label for="f-phone">' in phone
    assert 'autocomplete="name"' in field_block(page, "name")
    assert 'autocomplete="email"' in field_block(page, "email")
    assert 'name="consent" type="checkbox"' in page


async def test_submission_creates_the_lead_and_shows_the_deep_link(client, clock):
    token = await open_form(client, "/?ref=abc&utm_source=x")
    response = await post_form(
        client, token, ref="abc", utm_source="x", tz="Asia/Novosibirsk", email="Ivan@Example.com"
    )
    assert response.status == 303
    assert response.headers["Location"].startswith("/thanks")

    lead = await LeadEntry.get()
    assert lead.lead_source == "web_form"
    assert lead.lead_created_via == "core_ingest"
    assert lead.first_touch_at == lead.lead_created_at == int(clock.now())
    assert (lead.phone, lead.email, lead.tz) == (
        "+79161234567",
        "ivan@example.com",
        "Asia/Novosibirsk",
    )
    assert (lead.ref, lead.utm) == ("abc", {"utm_source": "x"})
    names = [e.name for e in await EventRecord.all().order_by("id")]
    assert names == ["core_ingest_event", "core_lead_created"]
    created = await EventRecord.get(name="core_lead_created")
    assert created.payload["lead_source"] == "web_form"
    assert created.lead_id == lead.id

    touch = await LeadTouch.get(lead=lead)
    thanks = await client.get(response.headers["Location"])
    page = await thanks.text()
    assert thanks.status == 200
    link = client.server.app[keys.LINKS].start_link(touch.start_token)
    assert link.endswith(f"/sandbox?start={touch.start_token}")
    assert f'<a class="button telegram" href="{link}" id="open-bot">' in page


async def test_the_token_never_appears_in_a_url(client):
    response = await post_form(client)
    assert "start" not in response.headers["Location"]
    touch = await LeadTouch.get()
    assert touch.start_token not in response.headers["Location"]
    cookie = response.cookies["funnel_thanks"]
    assert cookie["httponly"]
    assert cookie["path"] == "/thanks"
    assert cookie["samesite"] == "Lax"


async def test_thanks_page_without_a_registration_goes_back_to_the_form(client, clock):
    response = await client.get("/thanks", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/?")

    client.session.cookie_jar.update_cookies({"funnel_thanks": "forged-token:9999999999.abc"})
    response = await client.get("/thanks", allow_redirects=False)
    assert response.status == 303


async def test_thanks_page_expires(client, clock):
    await post_form(client)
    assert (await client.get("/thanks", allow_redirects=False)).status == 200
    clock.advance(25 * 3600)
    assert (await client.get("/thanks", allow_redirects=False)).status == 303


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"phone": "+7 916 123 45 67"}, {"phone": "8 (916) 123-45-67"}),
        (
            {"phone": "+7 916 123 45 67", "email": "ivan@example.com"},
            {"phone": "+7 903 000 00 01", "email": "IVAN@example.com"},
        ),
    ],
    ids=["same-phone-other-format", "same-email"],
)
async def test_the_same_person_again_is_the_same_lead(client, clock, first, second):
    assert (await post_form(client, **first)).status == 303
    lead = await LeadEntry.get()
    clock.advance(3600)
    assert (await post_form(client, **second, utm_source="again")).status == 303

    assert await LeadEntry.all().count() == 1
    again = await LeadEntry.get()
    assert again.id == lead.id
    assert again.first_touch_at == lead.first_touch_at
    touches = await LeadTouch.filter(lead=lead).order_by("id")
    assert [t.at for t in touches] == [lead.first_touch_at, lead.first_touch_at + 3600]
    assert touches[1].utm == {"utm_source": "again"}
    assert touches[0].start_token != touches[1].start_token
    assert await EventRecord.filter(name="core_lead_created").count() == 1
    assert await EventRecord.filter(name="core_ingest_event").count() == 2


async def test_bad_input_is_shown_next_to_each_field_and_nothing_is_stored(client):
    token = await open_form(client, "/?lang=en")
    response = await post_form(
        client,
        token,
        url="/?lang=en",
        name="",
        phone="12345",
        email="not-an-email",
        consent="",
        ref="abc",
        utm_source="x",
    )
    page = await response.text()
    assert response.status == 422
    assert "Please enter your name." in field_block(page, "name")
    phone = field_block(page, "phone")
    assert "This does not look like a phone number." in phone
    assert 'value="12345"' in phone
    assert 'aria-invalid="true"' in phone
    email = field_block(page, "email")
    assert "This does not look like an e-mail address." in email
    assert 'value="not-an-email"' in email
    assert "Please agree to the processing of your data." in field_block(page, "consent")
    assert '<input type="hidden" name="ref" value="abc">' in page
    assert '<input type="hidden" name="utm_source" value="x">' in page
    assert await LeadEntry.all().count() == 0
    assert await LeadTouch.all().count() == 0
    assert await EventRecord.all().count() == 0


async def test_typed_values_and_the_consent_tick_are_kept(client):
    response = await post_form(client, url="/?lang=en", phone="", email="a@b.example")
    page = await response.text()
    assert response.status == 422
    assert 'value="Ivan Petrov"' in field_block(page, "name")
    assert "Please enter your phone number." in field_block(page, "phone")
    assert 'value="a@b.example"' in field_block(page, "email")
    assert " checked" in field_block(page, "consent")


async def test_errors_are_in_russian_by_default(client):
    response = await post_form(client, phone="12345")
    page = await response.text()
    assert '<html lang="ru">' in page
    assert "Это не похоже на номер телефона." in field_block(page, "phone")


async def test_hostile_input_is_escaped_everywhere_it_is_shown(client):
    response = await client.get("/", params={"ref": HOSTILE, "utm_source": HOSTILE})
    page = await response.text()
    assert "<script>alert" not in page
    assert f'name="ref" value="{escape(HOSTILE)}"' in page

    token = await open_form(client)
    response = await post_form(
        client, token, name=HOSTILE, phone=HOSTILE, email=HOSTILE, ref=HOSTILE
    )
    page = await response.text()
    assert response.status == 422
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in field_block(page, "name")

    response = await post_form(client, token, name=HOSTILE, utm_campaign=HOSTILE)
    assert response.status == 303
    thanks = await client.get(response.headers["Location"])
    assert "<script>alert" not in await thanks.text()
    lead = await LeadEntry.get()
    assert lead.name == HOSTILE  # stored as typed, escaped only when shown

    missing = await client.get("/<script>alert(1)</script>")
    assert missing.status == 404
    assert "<script>alert" not in await missing.text()


@pytest.mark.parametrize(
    ("url", "headers", "lang", "text"),
    [
        ("/", {}, "ru", "Регистрация на бесплатный вебинар"),
        ("/?lang=en", {}, "en", "Register for the free webinar"),
        ("/?lang=ru", {"Accept-Language": "en-US,en;q=0.9"}, "ru", "Зарегистрироваться"),
        ("/", {"Accept-Language": "en-GB,en;q=0.9,ru;q=0.8"}, "en", "Register"),
        ("/", {"Accept-Language": "de-DE,de;q=0.9"}, "ru", "Зарегистрироваться"),
        ("/?lang=xx", {"Accept-Language": "fr, en;q=0.5"}, "en", "Your name"),
    ],
)
async def test_language(client, url, headers, lang, text):
    response = await client.get(url, headers=headers)
    page = await response.text()
    assert f'<html lang="{lang}">' in page
    assert text in page


async def test_default_locale_setting(aiohttp_client, settings, clock, hub):
    client = await make_client(aiohttp_client, settings, clock, hub, default_locale="en")
    page = await (await client.get("/")).text()
    assert '<html lang="en">' in page


async def test_language_links_keep_the_referral(client):
    page = await (await client.get("/?ref=abc&utm_source=x")).text()
    assert 'href="/?ref=abc&amp;utm_source=x&amp;lang=en"' in page


async def test_the_language_follows_the_visitor_to_the_thanks_page(client):
    token = await open_form(client, "/?lang=en")
    response = await post_form(client, token, url="/?lang=en")
    assert response.headers["Location"] == "/thanks?lang=en"
    page = await (await client.get(response.headers["Location"])).text()
    assert "Open the bot in Telegram" in page


async def test_good_defaults_are_valid(client):
    assert GOOD["consent"] == "yes"
    assert (await post_form(client)).status == 303
