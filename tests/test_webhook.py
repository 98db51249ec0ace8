"""Webhook mode: Telegram POSTs updates with the secret header to our own app; the same
handlers answer as in polling; a wrong or missing secret is 401, logged once a minute per
address, never handled; switching between webhook and polling loses no update."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.webhook import SECRET_HEADER, webhook_secret
from sandbox import FakeTelegram
from sandbox.webhook import webhook_of


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def webhook_mode(fake: FakeTelegram) -> dict[str, Any]:
    port = free_port()
    return {
        "bot_token": fake.token,  # not the sandbox: webhook mode is for a real bot
        "web_port": port,
        "telegram_webhook_url": f"http://127.0.0.1:{port}/telegram/webhook",
    }


async def test_updates_arrive_by_webhook_with_the_secret_and_get_the_same_answers(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    mode = webhook_mode(fake)
    async with product(**mode) as rt:
        hook = webhook_of(fake.world)
        assert hook.url == mode["telegram_webhook_url"]
        assert hook.secret == webhook_secret(rt.settings.secret_key)
        assert "message" in (fake.world.allowed_updates or ())
        zoe = fake.create_user("Zoe", language_code="en")
        sent = fake.send_text(zoe.id, "/help")
        (answer,) = await fake.wait_for_messages(zoe.id, 1, after=sent["message_id"])
    assert "/language" in answer["text"]  # /help's answer, by the same router as polling
    assert hook.pushed >= 1
    assert not any(call.method == "getUpdates" for call in fake.calls)


async def test_a_request_without_the_right_secret_is_refused_and_never_handled(
    product: Callable[..., Any],
    telegram: tuple[FakeTelegram, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, _ = telegram
    mode = webhook_mode(fake)
    zoe = fake.create_user("Zoe", language_code="en")
    forged = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": zoe.id, "type": "private"},
            "from": {"id": zoe.id, "is_bot": False, "first_name": "Zoe"},
            "text": "/help",
        },
    }
    caplog.set_level(logging.WARNING, logger="bot.webhook")
    async with product(**mode) as rt, aiohttp.ClientSession() as http:
        url = mode["telegram_webhook_url"]
        statuses = []
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: ""}):
            async with http.post(url, json=forged, headers=headers) as resp:
                statuses.append(resp.status)
        right = {SECRET_HEADER: webhook_secret(rt.settings.secret_key)}
        async with http.post(url, json={"update_id": "x"}, headers=right) as resp:
            malformed = resp.status
        await rt.webhook.finish()
    assert statuses == [401, 401, 401]
    assert malformed == 400
    assert fake.bot_messages(zoe.id) == []  # nothing was handled
    assert rt.webhook.refused == 3
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1  # once per address and minute


async def test_switching_to_polling_and_back_loses_no_update(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    zoe = fake.create_user("Zoe", language_code="en")
    mode = webhook_mode(fake)
    async with product(**mode):
        first = fake.send_text(zoe.id, "/help")
        await fake.wait_for_messages(zoe.id, 1, after=first["message_id"])
    # The service is down; Telegram keeps what arrives and fails to push it.
    waiting = fake.send_text(zoe.id, "/help")
    async with product(bot_token=fake.token):  # polling: deleteWebhook keeps the update
        assert webhook_of(fake.world).url == ""
        await fake.wait_for_messages(zoe.id, 1, after=waiting["message_id"])
    again = fake.send_text(zoe.id, "/help")  # down again, now from polling
    async with product(**webhook_mode(fake)):
        await fake.wait_for_messages(zoe.id, 1, after=again["message_id"])
    answered = [m for m in fake.bot_messages(zoe.id) if "/language" in m["text"]]
    assert len(answered) == 3
