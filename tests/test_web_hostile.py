"""Hostile requests found on main, each answered as intended rather than with a 500, a
leak or a spoof: over-long fields, odd cookies, scheme-relative paths, planted CSRF
cookies."""

from __future__ import annotations

import asyncio
import logging

import pytest

from models import LeadEntry
from tests.web_support import GOOD, csrf_token, make_client, open_form, post_form

SECRET = "s" * 24


@pytest.fixture
async def client(aiohttp_client, settings, clock, hub):
    return await make_client(aiohttp_client, settings, clock, hub, ingest_secrets={"tilda": SECRET})


async def raw_request(client, head: bytes) -> tuple[int, str]:
    """Send bytes no well-behaved client would; the status and the body."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(head)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")


# ---- 5: every field against its column ----------------------------------------------------


def address(local: int, domain: int) -> str:
    """An e-mail of the given lengths that looks right to a pattern."""
    return "a" * local + "@" + "b" * (domain - 8) + ".example"


@pytest.mark.parametrize(
    "email",
    [
        address(64, 190),  # 255 characters
        address(64, 253),  # 318: the longest the old pattern let through
        address(65, 20),  # a local part over 64
    ],
)
async def test_an_over_long_email_is_a_field_error_not_a_500(client, caplog, email):
    caplog.set_level(logging.INFO)
    response = await post_form(client, email=email)
    page = await response.text()
    assert response.status == 422
    assert "too long" in page or "слишком длинный" in page
    assert await LeadEntry.all().count() == 0
    assert email not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    api = await client.post(
        "/api/ingest",
        json={"source": "tilda", "email": email},
        headers={"X-Ingest-Secret": SECRET},
    )
    assert api.status == 422
    assert (await api.json())["errors"] == {"email": "The e-mail address is too long."}


async def test_the_longest_legal_email_is_stored(client):
    email = address(64, 189)  # 254 characters
    response = await post_form(client, email=email)
    assert response.status == 303
    assert (await LeadEntry.get()).email == email


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "Я" * 201}, "name"),
        ({"name": "x" * 5000}, "name"),
        ({"phone": "+7 916 123 45 67" + " " * 40}, None),  # spaces: nothing to fix
        ({"phone": "1" * 41}, "phone"),
    ],
)
async def test_typed_fields_are_checked_against_their_columns(client, fields, error):
    response = await post_form(client, **fields)
    if error is None:
        assert response.status == 303
    else:
        assert response.status == 422
        assert 'class="field-error"' in await response.text() or error
        assert await LeadEntry.all().count() == 0


async def test_hidden_fields_are_cut_or_dropped_to_fit(client):
    response = await client.post(
        "/api/ingest",
        json={
            "source": "tilda",
            "phone": "+79161234567",
            "name": "N" * 200,
            "tz": "Europe/" + "x" * 60,
            "utm_source": "u" * 300,
            "ref": "r" * 65,
        },
        headers={"X-Ingest-Secret": SECRET},
    )
    assert response.status == 201
    lead = await LeadEntry.get()
    assert (len(lead.name), lead.tz, lead.ref, lead.utm) == (
        200,
        None,
        None,
        {"utm_source": "u" * 200},
    )


async def test_an_overlong_webinar_reference_is_refused_not_cut(client):
    # A webinar reference names a registration: cutting it could name another webinar.
    response = await client.post(
        "/api/ingest",
        json={"source": "tilda", "phone": "+79161234567", "webinar_id": "w" * 65},
        headers={"X-Ingest-Secret": SECRET},
    )
    assert response.status == 422
    assert "webinar" in (await response.json())["errors"]
    assert await LeadEntry.all().count() == 0


# ---- 6: a thank-you cookie with odd characters -----------------------------------------------


@pytest.mark.parametrize(
    "cookie",
    [
        "funnel_thanks=token:1.ä".encode(),  # a non-ASCII signature
        "funnel_thanks=ä.Ωmega".encode(),
        b"funnel_thanks=abc.\xff\xfe",  # not even UTF-8
        b"funnel_thanks=\xff.abc",
    ],
)
async def test_a_malformed_signed_cookie_is_just_invalid(client, cookie):
    status, _ = await raw_request(
        client,
        b"GET /thanks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: " + cookie + b"\r\n\r\n",
    )
    assert status == 303  # back to the form, as for no cookie at all


# ---- 8: links built from the request ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (b"//evil.example/x", "/evil.example/x?a=1&amp;lang=en"),
        (b"///evil.example/x", "/evil.example/x?a=1&amp;lang=en"),
        (b"/\\evil.example/x", "/%5Cevil.example/x?a=1&amp;lang=en"),
        (b"//evil.example", "/evil.example?a=1&amp;lang=en"),
    ],
)
async def test_language_links_never_leave_the_site(client, path, expected):
    status, page = await raw_request(
        client, b"GET " + path + b"?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status == 404
    links = [part.split('"', 1)[0] for part in page.split('href="')[1:]]
    lang_links = [link for link in links if "lang=" in link]
    assert len(lang_links) >= 2
    for link in lang_links:
        assert link.startswith("/"), link
        assert not link.startswith("//"), link
        assert "\\" not in link
    assert f'href="{expected}"' in page


async def test_language_links_keep_the_query(client):
    page = await (await client.get("/?ref=pavel&utm_source=vk")).text()
    assert 'href="/?ref=pavel&amp;utm_source=vk&amp;lang=en"' in page


# ---- 9: only nonces the server issued -------------------------------------------------------


PLANTED = "A" * 32  # a nonce an attacker chose and put into the victim's browser


async def test_a_planted_csrf_cookie_is_replaced_not_signed(aiohttp_client, settings, clock, hub):
    attacker = await make_client(aiohttp_client, settings, clock, hub)
    # The attacker asks for the form with their chosen cookie, hoping for its token.
    response = await attacker.get("/", headers={"Cookie": f"funnel_csrf={PLANTED}"})
    token = csrf_token(await response.text())
    assert response.cookies["funnel_csrf"].value != PLANTED  # replaced by one of ours

    # The victim's browser carries the planted cookie; the attacker's page posts the token.
    victim = await make_client(aiohttp_client, settings, clock, hub)
    posted = await victim.post(
        "/",
        data={**GOOD, "csrf_token": token},
        headers={"Cookie": f"funnel_csrf={PLANTED}"},
        allow_redirects=False,
    )
    assert posted.status == 403
    assert await LeadEntry.all().count() == 0


async def test_a_cookie_we_issued_still_works(client):
    token = await open_form(client)
    assert (await post_form(client, token)).status == 303
