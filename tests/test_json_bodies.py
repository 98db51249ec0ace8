"""JSON from outside is read by one bounded reader (the webhook, the sandbox's API, the
fake Bot API); the webhook checks its secret before it reads a byte of the body; and a
client that leaves mid-body is a DEBUG line, not an error with a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

import main
from core.safejson import JsonError, loads, loads_object
from models import LeadEntry
from tests.web_support import make_client

SECRET = "s" * 24
NESTED = b"[" * 20_000 + b"]" * 20_000
DEEP_OBJECT = b'{"a":' * 20_000 + b"1" + b"}" * 20_000


@pytest.fixture
async def client(aiohttp_client, settings, clock, hub):
    return await make_client(aiohttp_client, settings, clock, hub, ingest_secrets={"tilda": SECRET})


def test_the_reader_refuses_with_one_error() -> None:
    for bad in (
        NESTED,
        DEEP_OBJECT,
        b"\xff",
        b'{"a": "\\ud800"}',
        b'{"\\udc00": 1}',
        b"1" * 5000,
        b"{",
        "[" * 33 + "]" * 33,
    ):
        with pytest.raises(JsonError):
            loads(bad)
    assert loads("[" * 32 + "]" * 32) is not None
    assert loads('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') == {"a": "[" * 44}
    assert loads(b'"\\ud83d\\ude00"') == "😀"  # a surrogate pair is one character
    with pytest.raises(JsonError):
        loads_object(b"[]")
    with pytest.raises(JsonError):
        loads_object(b'{"a": 1, "b": 2}', max_keys=1)


# ---- the webhook ----------------------------------------------------------------------------


async def test_deep_nesting_is_a_400_not_a_500(client, caplog):
    response = await client.post(
        "/api/ingest",
        data=NESTED,
        headers={"X-Ingest-Secret": SECRET, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert (await response.json())["ok"] is False
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_wrong_secret_is_refused_before_the_body_is_parsed(client, caplog):
    response = await client.post(
        "/api/ingest",
        data=NESTED,
        headers={"X-Ingest-Secret": "x" * 24, "Content-Type": "application/json"},
    )
    assert response.status == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_wrong_secret_is_refused_before_the_body_arrives(client):
    # The body is announced but never sent: the answer must not wait for it.
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /api/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"X-Ingest-Secret: wrong-wrong-wrong-wrong\r\nContent-Length: 60000\r\n\r\n{"
    )
    await writer.drain()
    async with asyncio.timeout(5):
        status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"401"


async def test_a_secret_of_one_source_does_not_open_another(aiohttp_client, settings, clock, hub):
    client = await make_client(
        aiohttp_client, settings, clock, hub, ingest_secrets={"tilda": SECRET, "lp": "l" * 24}
    )
    body = {"source": "lp", "phone": "+79161234567"}
    response = await client.post("/api/ingest", json=body, headers={"X-Ingest-Secret": SECRET})
    assert response.status == 401
    ok = await client.post("/api/ingest", json=body, headers={"X-Ingest-Secret": "l" * 24})
    assert ok.status == 201


async def test_a_lone_surrogate_is_a_400(client):
    body = b'{"source": "tilda", "phone": "+79161234567", "name": "Anna \\ud800"}'
    response = await client.post(
        "/api/ingest",
        data=body,
        headers={"X-Ingest-Secret": SECRET, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert await LeadEntry.all().count() == 0


@pytest.fixture
async def served(settings, clock) -> AsyncIterator[tuple[str, int]]:
    """The product served as `main` serves it (aiohttp's test server cancels handlers
    of a client that left; the real one lets them run into the closed connection)."""
    rt = main.build(settings.model_copy(update={"ingest_secrets": {"tilda": SECRET}}), clock)
    await main.start(rt)
    assert rt.runner is not None
    yield "127.0.0.1", rt.runner.addresses[0][1]
    await main.stop(rt)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/ingest", f"X-Ingest-Secret: {SECRET}\r\nContent-Type: application/json\r\n"),
        ("/", "Content-Type: application/x-www-form-urlencoded\r\n"),
    ],
)
async def test_a_client_leaving_mid_body_is_a_debug_line(served, caplog, path, headers):
    caplog.set_level(logging.DEBUG)
    _reader, writer = await asyncio.open_connection(*served)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 60000\r\n\r\n".encode()
        + b'{"name": "An'
    )
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.close()
    async with asyncio.timeout(5):
        while not any("went away" in r.getMessage() for r in caplog.records):
            await asyncio.sleep(0.02)
    (gone,) = [r for r in caplog.records if "went away" in r.getMessage()]
    assert gone.levelno == logging.DEBUG
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


# ---- the sandbox's API and the fake Bot API --------------------------------------------------


async def test_the_sandbox_api_refuses_deep_nesting(service: Any, service_url: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{service_url}/sandbox/api/users",
            data=DEEP_OBJECT[:60_000],
            headers={"X-Sandbox": "1", "Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 400
        assert "JSON object" in (await response.json())["error"]


async def test_the_fake_bot_api_refuses_deep_nesting(service: Any, service_url: str) -> None:
    base = f"{service_url}{main.SANDBOX_API_PREFIX}/bot{service.bot_token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/sendMessage",
            data=NESTED,
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 400
            assert (await response.json())["description"].startswith("Bad Request")
        markup = json.dumps({"chat_id": 1, "text": "x", "reply_markup": "[" * 5000})
        async with http.post(
            f"{base}/sendMessage", data=markup, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 400
