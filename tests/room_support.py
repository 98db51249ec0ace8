"""Helpers for the room tests: webinars, registered leads, the app with its hub running,
and visitors with a cookie jar of their own who read the room's live stream."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientResponse, ClientSession, CookieJar, web

import main
from core.clock import FakeClock
from core.hub import SignalHub
from core.links import Links
from core.live import LiveRooms
from core.presence import PresenceTracker
from core.settings import Settings
from core.webinar_rules import WebinarDraft
from core.webinars import Registration, create_webinar, register_many
from models import LeadEntry, Role, User, Webinar
from web.app import create_app

STARTS = "2027-01-20T19:00"  # FakeClock starts at 2027-01-15
WEBINAR = {
    "title": "Как стать партнёром",
    "start": STARTS,
    "tz": "Europe/Moscow",
    "duration": "90",
    "stream_type": "obs",
    "stream_url": "https://cdn.example.com/live/stream.m3u8",
}
_DATA = re.compile(r'<script type="application/json" id="room-data">(.*?)</script>', re.S)


async def make_webinar(hub: SignalHub, clock: FakeClock, **changes: str) -> Webinar:
    fields = {**WEBINAR, **changes}
    draft = WebinarDraft(**{k: v for k, v in fields.items() if v})
    return await create_webinar(hub, clock, draft, actor=None, default_tz="Europe/Moscow")


async def make_lead(clock: FakeClock, name: str = "Анна Петрова", **extra: Any) -> LeadEntry:
    now = int(clock.now())
    return await LeadEntry.create(
        name=name,
        lead_source="web_form",
        first_touch_at=now,
        lead_created_at=now,
        updated_at=clock.now(),
        **extra,
    )


async def register(hub: SignalHub, clock: FakeClock, webinar: Webinar, lead: LeadEntry) -> None:
    async with hub.transaction() as tx:
        await register_many(tx, clock, [Registration(webinar.id, lead.id, "web_form")])


async def make_user(
    clock: FakeClock, telegram_id: int, role: Role = Role.SPEAKER, **extra: Any
) -> User:
    now = clock.now()
    return await User.create(
        telegram_id=telegram_id, role=role, created_at=now, updated_at=now, **extra
    )


@dataclass
class Room:
    """The web app with a running hub and its consumers, as the service wires them."""

    app: web.Application
    links: Links
    live: LiveRooms
    base: str = ""
    presence: PresenceTracker = field(default_factory=PresenceTracker)


async def room_app(
    aiohttp_server: Any, settings: Settings, clock: FakeClock, hub: SignalHub
) -> Room:
    live = LiveRooms()
    presence = PresenceTracker()
    links, _, _ = main.wire(settings, clock, hub, live, presence)
    app = create_app(settings, clock, hub, links, live, presence)
    server = await aiohttp_server(app)
    await hub.start()
    room = Room(app, links, live, str(server.make_url("")).rstrip("/"), presence)
    links.base_url = room.base
    return room


@dataclass
class Event:
    kind: str
    data: Any
    id: str | None


@dataclass
class Stream:
    """A room's live connection, read event by event."""

    response: ClientResponse
    pending: list[Event] = field(default_factory=list)

    async def next(self, timeout: float = 5.0) -> Event:
        async with asyncio.timeout(timeout):
            kind, event_id = "message", None
            data: list[str] = []
            while True:
                raw = await self.response.content.readline()
                if not raw:
                    raise EOFError("the stream ended")
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if data:
                        return Event(kind, json.loads("\n".join(data)), event_id)
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "event":
                    kind = value
                elif name == "data":
                    data.append(value)
                elif name == "id":
                    event_id = value

    async def until(self, kind: str, timeout: float = 5.0) -> Event:
        """The next event of `kind` (others on the way are skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.next(timeout)
                if event.kind == kind:
                    return event

    async def quiet(self, seconds: float = 0.3) -> list[Event]:
        """Whatever arrives within `seconds` (to show that nothing more comes)."""
        got = []
        try:
            while True:
                got.append(await self.next(seconds))
        except TimeoutError:
            return got

    def close(self) -> None:
        self.response.close()


class Visitor:
    """A browser: its own cookies, on the test server."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = ClientSession(cookie_jar=CookieJar(unsafe=True))
        self.data: dict[str, Any] = {}
        self.lead: Any = None  # who this visitor is, when a test set it
        self.user: Any = None

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str, **kw: Any) -> ClientResponse:
        return await self.session.get(self.base + path, allow_redirects=False, **kw)

    async def enter(self, link: str) -> ClientResponse:
        """Follow a room link (absolute) and load the room; keeps the room's data."""
        response = await self.session.get(link, allow_redirects=False)
        assert response.status == 303, await response.text()
        room = await self.get(response.headers["Location"])
        assert room.status == 200, await room.text()
        self.data = room_data(await room.text())
        return room

    async def stream(self, last_event_id: str | None = None) -> Stream:
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        response = await self.get(self.data["urls"]["events"], headers=headers)
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        return Stream(response)

    async def post(self, url: str, body: Any, *, csrf: str | None = None) -> ClientResponse:
        token = self.data.get("csrf", "") if csrf is None else csrf
        return await self.session.post(
            self.base + url,
            json=body,
            headers={"X-CSRF-Token": token, "Accept": "application/json"},
        )

    async def say(self, text: str) -> ClientResponse:
        return await self.post(self.data["urls"]["chat"], {"text": text})

    async def moderate(self, action: str, message_id: int | None = None) -> ClientResponse:
        return await self.post(
            self.data["urls"]["moderate"], {"action": action, "message_id": message_id}
        )


def room_data(html: str) -> dict[str, Any]:
    match = _DATA.search(html)
    assert match, "no room data on the page"
    found: dict[str, Any] = json.loads(match[1])
    return found
