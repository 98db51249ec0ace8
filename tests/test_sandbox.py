"""The sandbox as a person uses it: the whole product in sandbox mode, driven over HTTP
through the page's endpoints, with the product's own bot answering through the fake."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import FakeTelegram
from sandbox.api import FAKE
from tests.bot_support import register
from tests.test_fake_telegram import PNG

HOSTILE = '<img src=x onerror="alert(1)">&amp;</b>'


@pytest.fixture
def fake(service: Any) -> FakeTelegram:
    found: FakeTelegram = service.app[FAKE]
    return found


@pytest.fixture
async def http(service_url: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=service_url) as session:
        yield session


async def call(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> Any:
    async with http.post(f"/sandbox/api/{path}", json=body, headers={"X-Sandbox": "1"}) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def settled(fake: FakeTelegram) -> None:
    """Wait until the bot has taken every update: nothing can be answered twice after it."""
    await fake.wait_until(lambda: not fake.world.updates)


async def test_start_without_payload_is_answered_once(
    http: aiohttp.ClientSession, fake: FakeTelegram
) -> None:
    anna = await call(http, "users", {"first_name": "Анна", "language_code": "ru"})
    boris = await call(http, "users", {"first_name": "Boris", "language_code": "en"})

    sent = await call(http, f"users/{anna['id']}/messages", {"text": "/start"})
    replies = await fake.wait_for_messages(anna["id"], after=sent["message_id"])
    await settled(fake)

    assert sent["text"] == "/start"
    assert len(fake.bot_messages(anna["id"])) == 1
    assert replies[0]["text"].startswith("Здравствуйте, Анна!")
    assert "/help" in replies[0]["text"]
    assert fake.messages(boris["id"]) == []  # nobody else hears about it


async def test_deep_link_opens_the_bot_as_a_new_user_with_the_payload(
    http: aiohttp.ClientSession, fake: FakeTelegram
) -> None:
    first = await call(http, "open", {"payload": "tok_A-1", "language_code": "en"})
    second = await call(http, "open", {"payload": "tok_A-1", "language_code": "en"})

    assert first["user"]["id"] != second["user"]["id"]  # each visit is a new user
    assert first["message"]["text"] == "/start tok_A-1"
    for opened in (first, second):
        user_id = opened["user"]["id"]
        await fake.wait_for_messages(user_id, after=opened["message"]["message_id"])
    await settled(fake)
    assert [len(fake.bot_messages(o["user"]["id"])) for o in (first, second)] == [1, 1]
    assert first["user"]["first_name"].startswith("Guest")


async def test_invalid_payload_is_dropped_like_telegrams_apps_do(
    http: aiohttp.ClientSession, fake: FakeTelegram
) -> None:
    opened = await call(http, "open", {"payload": "no spaces or <tags> allowed"})
    assert opened["message"]["text"] == "/start"
    await fake.wait_for_messages(opened["user"]["id"])


async def test_plain_text_and_help_get_the_command_list(
    http: aiohttp.ClientSession, fake: FakeTelegram
) -> None:
    user = await call(http, "users", {"first_name": "Vera", "language_code": "en"})
    said = await call(http, f"users/{user['id']}/messages", {"text": "hello?"})
    [answer] = await fake.wait_for_messages(user["id"], after=said["message_id"])
    asked = await call(http, f"users/{user['id']}/messages", {"text": "/help"})
    [help_answer] = await fake.wait_for_messages(user["id"], after=asked["message_id"])

    assert answer["text"].startswith("I don't understand messages yet")
    assert "/start" in help_answer["text"]
    assert "/help" in help_answer["text"]


async def test_a_stale_button_is_answered(
    http: aiohttp.ClientSession, fake: FakeTelegram, service: Any
) -> None:
    user = await call(http, "users", {"first_name": "Gleb"})
    await call(http, f"users/{user['id']}/messages", {"text": "/start"})
    await fake.wait_for_messages(user["id"])
    button = InlineKeyboardButton(text="Old offer", callback_data="offer:2019")
    old = await service.bot.send_message(
        user["id"], "An old offer", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
    )

    pressed = await call(
        http, f"users/{user['id']}/press", {"message_id": old.message_id, "data": "offer:2019"}
    )
    answer = await fake.wait_for_answer(pressed["callback_query_id"])
    assert answer["text"] == "Эта кнопка больше не действует."


async def test_the_bot_registers_its_command_menu(
    http: aiohttp.ClientSession, fake: FakeTelegram
) -> None:
    user = await call(http, "users", {"first_name": "Dina", "language_code": "en"})
    snapshot = await first_event(http, user["id"])
    assert [c["command"] for c in snapshot["commands"]] == [
        "start",
        "webinars",
        "language",
        "stop",
        "apply",
        "help",
    ]
    assert snapshot["commands"][0]["description"] == "Start"


async def first_event(http: aiohttp.ClientSession, user_id: int) -> Any:
    async with http.get(f"/sandbox/api/users/{user_id}/events") as stream:
        return await next_event(stream)


async def next_event(stream: aiohttp.ClientResponse) -> Any:
    async with asyncio.timeout(5):
        while True:
            line = (await stream.content.readline()).decode()
            if line.startswith("data: "):
                return json.loads(line[6:])


async def test_the_live_feed_shows_a_snapshot_then_each_message(
    http: aiohttp.ClientSession, fake: FakeTelegram
) -> None:
    user = await call(http, "users", {"first_name": "Egor"})
    async with http.get(f"/sandbox/api/users/{user['id']}/events") as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        snapshot = await next_event(stream)
        assert (snapshot["type"], snapshot["messages"]) == ("snapshot", [])
        await call(http, f"users/{user['id']}/messages", {"text": "/start"})

        mine = await next_event(stream)
        reply = await next_event(stream)

    assert (mine["type"], mine["message"]["text"]) == ("message", "/start")
    assert reply["type"] == "message"
    assert reply["message"]["from"]["is_bot"] is True
    assert reply["message"]["text"].startswith("Здравствуйте, Egor!")


async def test_hostile_names_and_texts_stay_text(
    http: aiohttp.ClientSession, fake: FakeTelegram, service_url: str
) -> None:
    user = await call(http, "users", {"first_name": HOSTILE})
    sent = await call(http, f"users/{user['id']}/messages", {"text": "/start"})
    said = await call(http, f"users/{user['id']}/messages", {"text": HOSTILE})
    [greeting, _] = await fake.wait_for_messages(user["id"], 2, after=sent["message_id"])

    # The bot escaped the name for HTML parse mode: the user sees it literally, unformatted.
    assert greeting["text"].startswith(f"Здравствуйте, {HOSTILE}!")
    assert all(e["type"] == "bot_command" for e in greeting.get("entities", []))
    assert user["first_name"] == HOSTILE
    assert said["text"] == HOSTILE
    async with http.get("/sandbox") as page:
        html = await page.text()
        policy = page.headers["Content-Security-Policy"]
    assert "onerror" not in html  # the page is static: user data only ever arrives as JSON
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, json.dumps({"first_name": "X"})),  # no X-Sandbox header
        ({"X-Sandbox": "1", "Content-Type": "text/plain"}, json.dumps({"first_name": "X"})),
        (
            {"X-Sandbox": "1", "Content-Type": "application/json", "Origin": "http://evil.test"},
            json.dumps({"first_name": "X"}),
        ),
    ],
)
async def test_cross_site_requests_are_refused(
    http: aiohttp.ClientSession, fake: FakeTelegram, headers: dict[str, str], body: str
) -> None:
    async with http.post("/sandbox/api/users", data=body, headers=headers) as response:
        assert response.status == 403
    assert fake.world.users == {}


async def test_same_origin_requests_are_accepted(
    http: aiohttp.ClientSession, service_url: str
) -> None:
    headers = {"X-Sandbox": "1", "Origin": service_url}
    async with http.post("/sandbox/api/users", json={"first_name": "Z"}, headers=headers) as r:
        assert r.status == 200


async def test_user_mistakes_get_a_clear_400(http: aiohttp.ClientSession) -> None:
    headers = {"X-Sandbox": "1"}
    async with http.post("/sandbox/api/users", json={"username": "a b"}, headers=headers) as r:
        assert r.status == 400
        assert "username" in (await r.json())["error"]
    async with http.post(
        "/sandbox/api/users/999/messages", json={"text": "x"}, headers=headers
    ) as r:
        assert r.status == 400


async def test_files_the_bot_sent_are_served_safely(
    http: aiohttp.ClientSession, fake: FakeTelegram, service: Any
) -> None:
    user = await call(http, "users", {"first_name": "Fedor"})
    await call(http, f"users/{user['id']}/messages", {"text": "/start"})
    await fake.wait_for_messages(user["id"])
    page = b"<script>alert(1)</script>"
    doc = await service.bot.send_document(user["id"], BufferedInputFile(page, "evil.html"))
    photo = await service.bot.send_photo(user["id"], BufferedInputFile(PNG, "dot.png"))

    async with http.get(f"/sandbox/files/{doc.document.file_id}") as r:
        assert await r.read() == page
        assert r.headers["Content-Type"] == "application/octet-stream"
        assert r.headers["Content-Disposition"].startswith("attachment;")
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    async with http.get(f"/sandbox/files/{photo.photo[-1].file_id}") as r:
        assert await r.read() == PNG
        assert r.headers["Content-Type"] == "image/png"
        assert r.headers["Content-Disposition"].startswith("inline;")
    async with http.get("/sandbox/files/not-a-file") as r:
        assert r.status == 404


async def test_a_person_confirms_their_number_with_the_contact_button(
    http: aiohttp.ClientSession, fake: FakeTelegram, service: Any
) -> None:
    await register(service)
    second = await register(service)  # the same person again, in another browser
    opened = await call(http, "open", {"payload": second, "language_code": "en"})
    user_id = opened["user"]["id"]
    [ask] = await fake.wait_for_messages(user_id, after=opened["message"]["message_id"])
    assert ask["text"].startswith("To link this chat to your registration")
    snapshot = await first_event(http, user_id)
    [[button]] = snapshot["keyboard"]["keyboard"]
    assert button["request_contact"] is True

    path = f"users/{user_id}/contact"
    async with http.post(f"/sandbox/api/{path}", json={}, headers={"X-Sandbox": "1"}) as r:
        assert r.status == 400  # a sandbox user has no number until they give one
        assert "phone number" in (await r.json())["error"]
    shared = await call(http, path, {"phone_number": "+7 916 123-45-67"})
    assert shared["contact"] == {"phone_number": "79161234567", "first_name": "Guest 1"} | {
        "user_id": user_id
    }
    done, welcome = await fake.wait_for_messages(user_id, 2, after=shared["message_id"])
    assert done["text"].startswith("✅ Done")
    assert welcome["text"].startswith("Hello, Анна! 👋")
    assert fake.world.chat(user_id).keyboard is None
    state = await (await http.get("/sandbox/api/state")).json()
    assert state["users"][0]["phone_number"] == "79161234567"  # kept, as an account keeps it
