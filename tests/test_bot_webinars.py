"""The speaker's side of the bot, end to end over the fake Bot API: `/webinars` with
Start/Stop/Cancel (one transition however many press, the second told who; illegal
ones refused with the reason; no capability → the usual refusal), the live counts
edited in place and throttled, the speaker's room link, the chat moderated from the
bot (a deletion reaches the room), and the guided create/edit dialog."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.access import refusal
from core.chat import Author, history
from core.clock import FakeClock
from core.roles import Capability as C
from core.webinars import set_status
from locales import N_
from models import EventRecord, LeadEntry, Role, User, Webinar, WebinarStatus
from sandbox import FakeTelegram
from tests.bot_support import tick
from tests.room_support import make_lead, make_webinar
from tests.test_admin_users import forge, press, say, start
from web import keys as web_keys

FAST = {"outbox_chat_rate": "50/s"}  # answers to one chat without Telegram's 1/s pause


def en(msgid: str) -> str:
    return msgid


async def person(fake: FakeTelegram, name: str, role: Role) -> Any:
    someone = fake.create_user(name, language_code="en")
    await start(fake, someone.id)
    await User.filter(telegram_id=someone.id).update(role=role)
    return someone


def buttons_of(message: dict[str, Any]) -> dict[str, str]:
    """callback_data (or url) → button text of a message's inline keyboard."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b.get("callback_data") or b["url"]: b["text"] for row in rows for b in row}


def edits_to(fake: FakeTelegram, chat_id: int) -> int:
    return sum(1 for c in fake.calls if c.method == "editMessageText" and c.chat_id == chat_id)


async def test_start_applies_once_and_the_second_speaker_is_told_who(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product(**FAST) as rt:
        webinar = await make_webinar(rt.hub, clock, title="<b>Старт</b> & co")
        mary = await person(fake, "Mary", Role.SPEAKER)
        bob = await person(fake, "Bob", Role.SPEAKER)
        (mary_list,) = await say(fake, mary.id, "/webinars")
        (bob_list,) = await say(fake, bob.id, "/webinars")
        text = mary_list["text"]
        assert "<b>Старт</b> & co — scheduled" in text  # shown as text, not markup
        assert "20.01.2027 19:00 (Europe/Moscow) · obs · 90 min" in text
        buttons = buttons_of(mary_list)
        start_data = f"wbc:{webinar.id}:start"
        assert buttons[start_data].startswith("▶️ Start · ")
        assert f"wbc:{webinar.id}:cancel" in buttons
        me = await User.get(telegram_id=mary.id)
        assert buttons[rt.links.speaker_room_link(webinar, me.id)] == "🎙 Room"  # as the speaker

        # Both press Start at once: one transition, the other is told who made it.
        clock.advance(60)
        answers = await asyncio.gather(
            press(fake, mary.id, mary_list["message_id"], start_data),
            press(fake, bob.id, bob_list["message_id"], start_data),
        )
        texts = sorted(a.get("text", "") for a in answers)
        assert texts[0] == "It is live already: Bob did it at 15.01.2027 11:01." or texts[0] == (
            "It is live already: Mary did it at 15.01.2027 11:01."
        )
        assert texts[1] == "Started: the rooms are live now."
        assert [a.get("show_alert", False) for a in answers].count(True) == 1
        assert await EventRecord.filter(name="core_webinar_set_status").count() == 1

        # A double press later: still one transition, the presser told again.
        again = await press(fake, mary.id, mary_list["message_id"], start_data)
        assert again["text"].startswith("It is live already:")
        assert await EventRecord.filter(name="core_webinar_set_status").count() == 1
        await tick(rt)
        shown = fake.world.chat(mary.id).messages[mary_list["message_id"]]
        assert "— live" in shown["text"]
        assert f"wbc:{webinar.id}:stop" in buttons_of(shown)  # edited in place
        event = await EventRecord.get(name="core_webinar_set_status")
        assert event.payload["status"] == "live"
        assert event.payload["actor"].startswith("user:")
