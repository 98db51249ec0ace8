"""What the web layer refuses, and how: CSRF, size, encoding, floods, errors, headers."""

from __future__ import annotations

import pytest
from aiohttp import web

from core.clock import FakeClock
from models import EventRecord, LeadEntry
from tests.web_support import GOOD, make_client, open_form, post_form
from web.ratelimit import RateLimiter


@pytest.fixture
async def client(aiohttp_client, settings, clock, hub):
    return await make_client(aiohttp_client, settings, clock, hub)


async def nothing_stored() -> bool:
    return await LeadEntry.all().count() == 0 and await EventRecord.all().count() == 0


# ---- CSRF -------------------------------------------------------------------------------


async def test_post_without_token_is_refused(client):
    await open_form(client)
    response = await client.post("/", data=GOOD)
    page = await response.text()
    assert response.status == 403
    assert "For your safety nothing was saved" in page or "ничего не сохранено" in page
    assert 'href="/?lang=' in page
    assert await nothing_stored()


async def test_post_with_a_wrong_token_is_refused(client):
    token = await open_form(client)
    response = await post_form(client, token[:-2] + "xx")
    assert response.status == 403
    assert await nothing_stored()


async def test_post_without_the_cookie_is_refused(client):
    token = await open_form(client)
    client.session.cookie_jar.clear()
    response = await post_form(client, token)
    assert response.status == 403
    assert await nothing_stored()


async def test_a_token_from_another_visitor_does_not_fit(aiohttp_client, settings, clock, hub):
    client = await make_client(aiohttp_client, settings, clock, hub)
    other = await make_client(aiohttp_client, settings, clock, hub)
    await open_form(client)
    response = await post_form(client, await open_form(other))
    assert response.status == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "https://evil.example", "Referer": "http://127.0.0.1/"},
    ],
)
async def test_a_cross_site_post_is_refused_even_with_a_valid_token(client, headers):
    token = await open_form(client)
    response = await client.post(
        "/", data={**GOOD, "csrf_token": token}, headers=headers, allow_redirects=False
    )
    assert response.status == 403
    assert "text/html" in response.headers["Content-Type"]
    assert await nothing_stored()


async def test_a_same_site_origin_is_accepted(client):
    token = await open_form(client)
    origin = f"http://{client.host}:{client.port}"
    response = await client.post(
        "/",
        data={**GOOD, "csrf_token": token},
        headers={"Origin": origin, "Referer": origin + "/?ref=abc"},
        allow_redirects=False,
    )
    assert response.status == 303


async def test_the_csrf_cookie_is_lax_and_http_only(client):
    response = await client.get("/")
    cookie = response.cookies["funnel_csrf"]
    assert cookie["samesite"] == "Lax"
    assert cookie["httponly"]
    # An existing cookie is kept: reloading the form must not break a second open tab.
    again = await client.get("/")
    assert "funnel_csrf" not in again.cookies


# ---- size, encoding ---------------------------------------------------------------------


async def test_an_oversized_body_gets_a_clean_413(client):
    token = await open_form(client)
    response = await client.post("/", data={**GOOD, "csrf_token": token, "name": "x" * 70_000})
    page = await response.text()
    assert response.status == 413
    assert "<h1>" in page
    assert "Traceback" not in page
    assert await nothing_stored()


async def test_an_oversized_webhook_body_gets_json_413(aiohttp_client, settings, clock, hub):
    # With the right secret: without one the body is not even read (401).
    client = await make_client(
        aiohttp_client, settings, clock, hub, ingest_secrets={"tilda": "s" * 20}
    )
    response = await client.post(
        "/api/ingest",
        data=b'{"name": "' + b"x" * 70_000 + b'"}',
        headers={"X-Ingest-Secret": "s" * 20, "Content-Type": "application/json"},
    )
    assert response.status == 413
    assert (await response.json())["ok"] is False


@pytest.mark.parametrize(
    "body",
    [b"name=\xff\xfe&phone=1", b"name=%FF%FE&phone=%2B79161234567&consent=yes"],
    ids=["raw-bytes", "percent-encoded"],
)
async def test_non_utf8_junk_gets_400(client, body):
    token = await open_form(client)
    response = await client.post(
        "/",
        data=body + b"&csrf_token=" + token.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    page = await response.text()
    assert response.status == 400
    assert "UTF-8" in page
    assert await nothing_stored()


async def test_a_file_upload_instead_of_text_gets_400(client):
    from aiohttp import FormData

    token = await open_form(client)
    form = FormData({**GOOD, "csrf_token": token})
    form.add_field("name", b"\x00\x01", filename="x.bin", content_type="application/octet-stream")
    response = await client.post("/", data=form)
    assert response.status == 400


async def test_multipart_text_fields_are_accepted(client):
    from aiohttp import FormData

    token = await open_form(client)
    form = FormData({**GOOD, "csrf_token": token}, default_to_multipart=True)
    response = await client.post("/", data=form, allow_redirects=False)
    assert response.status == 303


# ---- floods -----------------------------------------------------------------------------


async def test_a_flood_from_one_address_gets_429_with_retry_after(
    aiohttp_client, settings, clock, hub
):
    client = await make_client(aiohttp_client, settings, clock, hub, form_rate_limit="3/min")
    token = await open_form(client)
    statuses = [(await post_form(client, token, phone="1")).status for _ in range(3)]
    assert statuses == [422, 422, 422]
    response = await post_form(client, token)
    assert response.status == 429
    assert int(response.headers["Retry-After"]) == 20
    assert "<h1>" in await response.text()
    assert await nothing_stored()
    # Pages are not counted, only posts; and the budget refills with time.
    assert (await client.get("/")).status == 200
    clock.advance(20)
    assert (await post_form(client, token)).status == 303


async def test_rate_limit_zero_turns_it_off(aiohttp_client, settings, clock, hub):
    client = await make_client(aiohttp_client, settings, clock, hub, form_rate_limit="0")
    token = await open_form(client)
    for _ in range(30):
        assert (await post_form(client, token, phone="1")).status == 422


def test_the_limiter_forgets_idle_addresses_and_stays_bounded():
    clock = FakeClock()
    limiter = RateLimiter(2, 60, clock, max_keys=100)
    for i in range(1000):
        assert limiter.hit(f"10.0.{i // 256}.{i % 256}") == 0
    assert len(limiter) <= 101
    clock.advance(61)
    limiter.hit("192.0.2.1")
    assert len(limiter) == 1


def test_the_limiter_allows_a_burst_then_one_per_interval():
    clock = FakeClock()
    limiter = RateLimiter(20, 60, clock)
    assert [limiter.hit("a") for _ in range(20)] == [0] * 20
    assert limiter.hit("a") == 3
    assert limiter.hit("b") == 0
    clock.advance(3)
    assert limiter.hit("a") == 0
    assert limiter.hit("a") == 3


# ---- error pages, headers ---------------------------------------------------------------


async def boom(request: web.Request) -> web.Response:
    raise RuntimeError("secret internals: /etc/passwd")


@pytest.fixture
async def boom_client(aiohttp_client, settings, clock, hub):
    from core.links import Links
    from web.app import create_app

    app = create_app(settings, clock, hub, Links(settings.base_url, sandbox=True))
    app.router.add_get("/boom", boom)
    app.router.add_get("/api/boom", boom)

    async def botapi(request: web.Request) -> web.Response:
        if request.match_info["method"] == "raise":
            raise web.HTTPBadRequest(text='{"ok":false,"error_code":400}')
        return web.json_response({"ok": False, "error_code": 429}, status=429)

    app.router.add_post("/sandbox/botapi/bot{token}/{method}", botapi)
    return await aiohttp_client(app)


async def test_an_unexpected_exception_is_a_friendly_500(boom_client, caplog):
    response = await boom_client.get("/boom?lang=en")
    page = await response.text()
    assert response.status == 500
    assert "Something went wrong on our side" in page
    assert "secret internals" not in page
    assert "Traceback" not in page
    assert "secret internals" in caplog.text  # but it is logged


async def test_api_errors_are_json(boom_client):
    response = await boom_client.get("/api/boom")
    assert response.status == 500
    assert (await response.json())["ok"] is False
    missing = await boom_client.get("/api/nothing-here")
    assert missing.status == 404
    assert (await missing.json())["ok"] is False
    scripted = await boom_client.get("/boom", headers={"Accept": "application/json"})
    assert scripted.status == 500
    assert (await scripted.json())["ok"] is False


async def test_the_sandbox_bot_api_keeps_its_own_answers(boom_client):
    raised = await boom_client.post("/sandbox/botapi/bot1:x/raise")
    assert raised.status == 400
    assert await raised.text() == '{"ok":false,"error_code":400}'
    returned = await boom_client.post("/sandbox/botapi/bot1:x/sendMessage")
    assert returned.status == 429
    assert (await returned.json())["error_code"] == 429


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [("GET", "/nowhere", 404), ("PUT", "/", 405), ("DELETE", "/thanks", 405)],
)
async def test_http_errors_are_friendly_pages(client, method, url, status):
    response = await client.request(method, url + "?lang=en")
    page = await response.text()
    assert response.status == status
    assert "text/html" in response.headers["Content-Type"]
    assert "Go to the registration page" in page
    if status == 405:
        assert "GET" in response.headers["Allow"]


async def test_pages_carry_security_headers(client):
    for url in ("/", "/nowhere"):
        response = await client.get(url)
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["Cache-Control"] == "no-store"
    page = await (await client.get("/")).text()
    assert "<script>" not in page  # no inline script: the CSP would block it
    assert " style=" not in page


async def test_static_files_are_served(client):
    page = await (await client.get("/")).text()
    for name in ("style.css", "form.js"):
        start = page.index(f"/static/{name}")
        url = page[start : page.index('"', start)].replace("&amp;", "&")
        response = await client.get(url)
        assert response.status == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
