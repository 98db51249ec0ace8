"""Helpers for end-to-end tests of the bot: the product talks to the fake Bot API over
HTTP, as it would to Telegram. The `telegram` and `product` fixtures are in conftest."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

import main
from sandbox import FakeTelegram


async def register(rt: main.Runtime, **fields: Any) -> str:
    """Fill the form as a browser does; the deep-link payload from the thank-you page."""
    base = rt.links.base_url
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/", params=fields.pop("query", None) or {}) as page:
            html = await page.text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert token
        hidden = dict(re.findall(r'name="(ref|utm_\w+)" value="([^"]*)"', html))
        form = {"name": "Анна", "phone": "+7 916 123-45-67", "consent": "yes", **hidden}
        form |= {"csrf_token": token[1], "tz": "Europe/Moscow", **fields}
        action = re.search(r'<form method="post" action="([^"]*)"', html)
        assert action
        url = f"{base}{action[1].replace('&amp;', '&')}"
        async with http.post(url, data=form, headers={"Origin": base}) as thanks:
            assert thanks.status == 200, await thanks.text()
            link = re.search(r'href="([^"]*start=[^"]*)"', await thanks.text())
    assert link
    return parse_qs(urlsplit(link[1].replace("&amp;", "&")).query)["start"][0]


async def welcomed(rt: main.Runtime, fake: FakeTelegram) -> Any:
    """Anna registers and opens the bot: the binding answer and the welcome arrive."""
    token = await register(rt)
    anna = fake.create_user("Анна", language_code="ru")
    fake.send_start(anna.id, token)
    await fake.wait_for_messages(anna.id, 2)
    return anna


async def tick(rt: main.Runtime) -> None:
    """Let the product act on the (fake) time now: due steps run, the outbox drains."""
    assert rt.sender is not None
    for stage, work in (
        ("hub.drain", rt.hub.drain),
        ("engine.tick", rt.engine.tick),
        ("sender.drain", rt.sender.drain),
    ):
        try:
            async with asyncio.timeout(30):
                await work()
        except TimeoutError:
            pytest.fail(f"{stage} did not finish in 30 s")


def notice_in(messages: list[dict[str, Any]]) -> dict[str, Any]:
    (notice,) = [m for m in messages if m["text"].startswith("🆕")]
    return notice


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.get("text", "") for m in fake.bot_messages(chat_id)]
