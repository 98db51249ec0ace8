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
from models import EventRecord, Role, User, Webinar, WebinarStatus
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

        # A double press later (a client still showing the old Start, whether or not the
        # edit has reached it yet): still one transition, the presser told again.
        again = await forge(fake, mary, mary_list["message_id"], start_data)
        assert again["text"].startswith("It is live already:")
        assert await EventRecord.filter(name="core_webinar_set_status").count() == 1
        await tick(rt)
        shown = fake.world.chat(mary.id).messages[mary_list["message_id"]]
        assert "— live" in shown["text"]
        assert f"wbc:{webinar.id}:stop" in buttons_of(shown)  # edited in place
        event = await EventRecord.get(name="core_webinar_set_status")
        assert event.payload["status"] == "live"
        assert event.payload["actor"].startswith("user:")


async def test_illegal_transitions_and_presses_without_the_capability_are_refused(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product(**FAST) as rt:
        webinar = await make_webinar(rt.hub, clock)
        mary = await person(fake, "Mary", Role.SPEAKER)
        paul = await person(fake, "Paul", Role.PARTNER)
        (listing,) = await say(fake, mary.id, "/webinars")
        mid = listing["message_id"]

        # Stopping what has not started: refused with the reason, nothing stored.
        answer = await forge(fake, mary, mid, f"wbc:{webinar.id}:stop")
        assert answer["text"] == "It has not started yet: start it first, or cancel it."
        assert answer["show_alert"] is True
        # Cancel asks first; "Yes" cancels.
        asked = await press(fake, mary.id, mid, f"wbc:{webinar.id}:cancel")
        assert asked["text"].startswith("Cancel this webinar?")
        await tick(rt)
        assert f"wbc:{webinar.id}:cancel_yes" in buttons_of(fake.world.chat(mary.id).messages[mid])
        assert await EventRecord.filter(name="core_webinar_set_status").count() == 0
        done = await press(fake, mary.id, mid, f"wbc:{webinar.id}:cancel_yes")
        assert done["text"] == "Cancelled: the registrants will be told."
        # Starting a cancelled one: refused with the reason.
        answer = await forge(fake, mary, mid, f"wbc:{webinar.id}:start")
        assert answer["text"] == (
            "It is cancelled already: nothing can change its status any more."
        )
        assert await EventRecord.filter(name="core_webinar_set_status").count() == 1

        # A partner forging the speakers' buttons gets the usual refusal; nothing changes.
        other = await make_webinar(rt.hub, clock, title="Второй")
        pid = fake.bot_messages(paul.id)[-1]["message_id"]
        for data, need in (
            (f"wbc:{other.id}:start", C.WEBINAR_MANAGE_STATUS),
            ("wbl", C.WEBINAR_MANAGE_STATUS),
            (f"wbm:{other.id}:del:1", C.WEBINAR_MANAGE_CHAT),
            (f"wbm:{other.id}:close:0", C.WEBINAR_MANAGE_CHAT),
            ("wbd:new:0", C.WEBINAR_CREATE),
        ):
            answer = await forge(fake, paul, pid, data)
            assert answer["text"] == refusal(en, need)
            assert answer["show_alert"] is True
        assert (await Webinar.get(id=other.id)).status == WebinarStatus.SCHEDULED
        assert await EventRecord.filter(name="core_webinar_set_status").count() == 1


async def test_the_live_counts_are_edited_in_place_at_most_every_few_seconds(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product(**FAST) as rt:
        assert rt.panels is not None
        webinar = await make_webinar(rt.hub, clock)
        mary = await person(fake, "Mary", Role.SPEAKER)
        (listing,) = await say(fake, mary.id, "/webinars")
        mid = listing["message_id"]
        await press(fake, mary.id, mid, f"wbc:{webinar.id}:start")
        await tick(rt)

        def shown() -> str:
            return str(fake.world.chat(mary.id).messages[mid]["text"])

        assert "In the room: 0 · chat messages: 0" in shown()
        edits = edits_to(fake, mary.id)

        live = rt.app[web_keys.LIVE]
        viewers = [live.join(webinar.id, "lead:1"), live.join(webinar.id, "lead:2")]
        live.join(webinar.id, "lead:2")  # a second tab of the same person
        await rt.panels.tick()
        await tick(rt)
        assert edits_to(fake, mary.id) == edits  # too soon: the pause is not over

        clock.advance(5)
        await rt.panels.tick()
        await tick(rt)
        assert edits_to(fake, mary.id) == edits + 1
        assert "In the room: 2 · chat messages: 0" in shown()

        clock.advance(5)  # nothing changed: no edit
        await rt.panels.tick()
        await tick(rt)
        assert edits_to(fake, mary.id) == edits + 1

        lead = await make_lead(clock, "Анна")
        await rt.app[web_keys.CHAT].post(
            await Webinar.get(id=webinar.id), Author("Анна", lead_id=lead.id), "Привет"
        )
        live.leave(viewers[0])
        clock.advance(5)
        await rt.panels.tick()
        await tick(rt)
        assert edits_to(fake, mary.id) == edits + 2
        assert "In the room: 1 · chat messages: 1" in shown()

        # Stopped: the message says so, and is followed no more.
        await set_status(rt.hub, clock, webinar.id, WebinarStatus.FINISHED, actor=None)
        clock.advance(5)
        await rt.panels.tick()
        await tick(rt)
        assert "— live" not in shown()
        assert rt.panels.followed(mary.id) is None
        before = edits_to(fake, mary.id)
        live.join(webinar.id, "lead:9")
        clock.advance(5)
        await rt.panels.tick()
        await tick(rt)
        assert edits_to(fake, mary.id) == before


async def test_a_speaker_moderates_the_chat_from_the_bot_and_the_room_follows(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product(**FAST) as rt:
        webinar = await make_webinar(rt.hub, clock)
        await set_status(rt.hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
        webinar = await Webinar.get(id=webinar.id)
        mary = await person(fake, "Mary", Role.SPEAKER)
        anna = await make_lead(clock, "<i>Анна</i> Петрова")
        chat = rt.app[web_keys.CHAT]
        bad = await chat.post(webinar, Author("<i>Анна</i>", lead_id=anna.id), "<b>спам</b>")
        good = await chat.post(webinar, Author("<i>Анна</i>", lead_id=anna.id), "вопрос")
        live = rt.app[web_keys.LIVE]
        viewer = live.join(webinar.id, f"lead:{anna.id}")

        (listing,) = await say(fake, mary.id, "/webinars")
        chat_data = f"wbm:{webinar.id}:show:0"
        assert buttons_of(listing)[chat_data] == "💬 Chat"
        await press(fake, mary.id, listing["message_id"], chat_data)
        (screen,) = await fake.wait_for_messages(mary.id, after=listing["message_id"])
        assert "1. <i>Анна</i>: <b>спам</b>" in screen["text"]  # as text
        assert "2. <i>Анна</i>: вопрос" in screen["text"]
        assert buttons_of(screen)[f"wbm:{webinar.id}:del:{bad.id}"] == "🗑 1"

        sid = screen["message_id"]
        answer = await press(fake, mary.id, sid, f"wbm:{webinar.id}:del:{bad.id}")
        assert answer["text"] == "Deleted for everyone."
        again = await press(fake, mary.id, sid, f"wbm:{webinar.id}:del:{bad.id}")
        assert again["text"] == "It was deleted already."
        assert [m.id for m in await history(webinar.id)] == [good.id]
        await tick(rt)
        assert "спам" not in fake.world.chat(mary.id).messages[sid]["text"]
        taken = viewer.take()
        assert [(e.kind, e.data) for e in taken if e.kind == "deleted"] == [
            ("deleted", {"ids": [bad.id]})
        ]  # the open room drops it
        assert await EventRecord.filter(name="core_webinar_chat_message_deleted").count() == 1

        muted = await press(fake, mary.id, sid, f"wbm:{webinar.id}:mute:{good.id}")
        assert muted["text"] == "Muted: they can still watch and read."
        closed = await press(fake, mary.id, sid, f"wbm:{webinar.id}:close:0")
        assert closed["text"] == "The chat is closed."
        await tick(rt)
        shown = fake.world.chat(mary.id).messages[sid]
        assert "(closed)" in shown["text"]
        assert f"wbm:{webinar.id}:open:0" in buttons_of(shown)
        assert f"wbm:{webinar.id}:unmute:{good.id}" in buttons_of(shown)


async def answer_steps(fake: FakeTelegram, user: Any, *answers: str) -> list[str]:
    """Send each answer and collect the bot's reply to it."""
    replies = []
    for text in answers:
        (reply,) = await say(fake, user.id, text)
        replies.append(reply["text"])
    return replies


async def test_the_guided_dialog_creates_and_edits_a_webinar(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product(**FAST) as rt:
        mary = await person(fake, "Mary", Role.SPEAKER)
        (first,) = await say(fake, mary.id, "/newwebinar")
        assert first["text"].startswith("Step 1 of 11. The webinar's title?")
        r = await answer_steps(
            fake,
            mary,
            "<b>Партнёрство</b> 2027",
            "-",
            "вчера",  # not a date: refused, the same question again
            "2027-02-01 19:00 Asia/Yekaterinburg",
            "много",
            "90",
            "skype",
            "zoom",
            "https://example.com/j/1",  # a zoom webinar needs a Zoom link
            "https://zoom.us/j/123",
            "0",
            "on",  # two chats for one webinar: refused
            "off",
            *["-"] * 3,  # the default attendance rule and reminders
        )
        assert r[0].startswith("Step 2 of 11.")
        assert r[2].startswith("⚠️ 'вчера' is not a date and time like 2026-12-01T19:00")
        assert "Step 3 of 11." in r[2]
        assert r[4].startswith("⚠️ a whole number from 1 to 1440")
        assert r[6].startswith("⚠️ unknown stream type 'skype'; one of: obs, zoom, telegram")
        assert r[8].startswith("⚠️ a zoom webinar needs a link to zoom.us")
        assert r[11].startswith(
            "⚠️ a zoom webinar's chat is the platform's own: two chats for one webinar"
        )
        assert "Step 8 of 11." in r[11]
        preview = fake.bot_messages(mary.id)[-1]
        assert preview["text"].startswith("Create the webinar?")
        assert "Title: <b>Партнёрство</b> 2027" in preview["text"]  # as text
        assert "Start: 2027-02-01 19:00 (Asia/Yekaterinburg)" in preview["text"]
        assert await Webinar.all().count() == 0  # nothing before Create

        answer = await press(fake, mary.id, preview["message_id"], "wbd:save:0")
        assert answer.get("show_alert") is not True
        await tick(rt)
        webinar = await Webinar.get()
        assert webinar.title == "<b>Партнёрство</b> 2027"
        assert webinar.tz == "Asia/Yekaterinburg"
        assert (webinar.stream_type, webinar.chat_enabled) == ("zoom", False)
        assert webinar.recording_url is None
        assert webinar.reminder_offsets is None  # "-" kept the defaults, as the CLI does
        assert (webinar.attend_min_percent, webinar.attend_min_minutes) == (50, 20)
        done = fake.world.chat(mary.id).messages[preview["message_id"]]["text"]
        assert done.startswith("Created: “<b>Партнёрство</b> 2027”.")
        assert f"/w/{webinar.slug}" in done
        # A second press of Create makes nothing more.
        again = await forge(fake, mary, preview["message_id"], "wbd:save:0")
        assert again["text"] == "That question has expired. Please start again."
        assert await Webinar.all().count() == 1

        # Edit: the same questions with the current values; "-" keeps each.
        await forge(fake, mary, preview["message_id"], f"wbd:edit:{webinar.id}")
        (asked_message,) = await fake.wait_for_messages(mary.id, after=preview["message_id"])
        asked = asked_message["text"]
        assert "Now: <b>Партнёрство</b> 2027. Send - to keep it." in asked
        await answer_steps(fake, mary, "Партнёрство", *["-"] * 10)
        preview = fake.bot_messages(mary.id)[-1]
        assert preview["text"].startswith("Edit the webinar?")
        await press(fake, mary.id, preview["message_id"], f"wbd:save:{webinar.id}")
        await tick(rt)
        assert (await Webinar.get(id=webinar.id)).title == "Партнёрство"
        (updated,) = await EventRecord.filter(name="core_webinar_updated")
        assert updated.payload["changed"] == ["title"]
