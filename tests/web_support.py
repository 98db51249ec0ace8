"""Helpers for the web tests: build the app on a real database and post the form."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from core.clock import FakeClock
from core.hub import SignalHub
from core.links import Links
from core.settings import Settings
from web.app import create_app

Client = TestClient[web.Request, web.Application]
GOOD = {"name": "Ivan Petrov", "phone": "+7 916 123 45 67", "consent": "yes"}


async def make_client(
    aiohttp_client: Any, settings: Settings, clock: FakeClock, hub: SignalHub, **overrides: Any
) -> Client:
    if overrides:
        settings = settings.model_copy(update=overrides)
    links = Links(base_url=settings.base_url, sandbox=settings.sandbox)
    return await aiohttp_client(create_app(settings, clock, hub, links))  # type: ignore[no-any-return]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match[1]


async def open_form(client: Client, url: str = "/") -> str:
    """GET the form (sets the CSRF cookie); the hidden token."""
    response = await client.get(url)
    assert response.status == 200
    return csrf_token(await response.text())


async def post_form(
    client: Client, token: str | None = None, url: str = "/", **fields: str
) -> ClientResponse:
    if token is None:
        token = await open_form(client)
    data = {**GOOD, "csrf_token": token, **fields}
    return await client.post(url, data=data, allow_redirects=False)


def field_block(html: str, name: str) -> str:
    """The `<div class="field…">` that holds the input called `name`."""
    for block in html.split('<div class="field')[1:]:
        if f'name="{name}"' in block:
            return block.split("</div>", 1)[0]
    raise AssertionError(f"no field {name!r} on the page")
