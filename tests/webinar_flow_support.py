"""Helpers for the reminder, routing and report tests: a webinar with leads in the fake
Telegram, moving the fake clock to a given moment, and what each chat received."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import main
from core.clock import FakeClock
from core.events import ClientWebinarAttendanceClassified, Event, PostWebinarRoute
from models import LeadEntry, Webinar
from sandbox import FakeTelegram
from tests.bot_support import tick
from tests.room_support import make_lead, make_webinar, register


@dataclass
class Person:
    lead: LeadEntry
    chat_id: int


async def person(
    rt: main.Runtime, fake: FakeTelegram, clock: FakeClock, name: str, **extra: Any
) -> Person:
    user = fake.create_user(name, language_code="ru")
    user.started = True  # they opened the bot (bound through their deep link) before
    lead = await make_lead(clock, name, chat_id=user.id, **extra)
    return Person(lead, user.id)


async def registered(rt: main.Runtime, clock: FakeClock, webinar: Webinar, *people: Person) -> None:
    for p in people:
        await register(rt.hub, clock, webinar, p.lead)
    await tick(rt)


async def at(rt: main.Runtime, clock: FakeClock, when: float) -> None:
    """Move the fake clock to `when` and let the product act on it."""
    clock.advance(when - clock.now())
    await tick(rt)
    await tick(rt)


async def emit(rt: main.Runtime, *events: Event) -> None:
    """Publish as the producing code does: stored in a transaction, then delivered."""
    async with rt.hub.transaction() as tx:
        for event in events:
            await tx.publish(event)
    await tick(rt)
    await tick(rt)


def classified(
    clock: FakeClock, webinar: Webinar, p: Person, attendance: str, minutes: int
) -> ClientWebinarAttendanceClassified:
    return ClientWebinarAttendanceClassified(
        timestamp=int(clock.now()),
        webinar_id=webinar.webinar_id,
        lead_id=p.lead.id,
        attendance=attendance,
        seconds_present=minutes * 60,
    )


def route(clock: FakeClock, webinar: Webinar, p: Person, name: str) -> PostWebinarRoute:
    return PostWebinarRoute(
        timestamp=int(clock.now()), webinar_id=webinar.webinar_id, lead_id=p.lead.id, route=name
    )


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.get("text", "") for m in fake.bot_messages(chat_id)]


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("url", "")) for row in rows for b in row]


__all__ = ["at", "buttons", "classified", "emit", "make_webinar", "person", "registered", "route"]
