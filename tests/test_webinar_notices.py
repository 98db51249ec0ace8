"""What registrants and partners hear in Telegram about webinars: the confirmation with the
room button (also when the chat comes later), cancellation, a new time, partner notices,
and a candidate's /webinars. The whole product against the fake Bot API over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

import main
from core.clock import FakeClock
from core.events import CATALOGUE, Event
from core.links import Links
from core.webinar_rules import WebinarDraft
from core.webinars import edit_webinar, set_status
from handlers.webinar_notices import room_button
from models import (
    DeliveryStatus,
    EventDelivery,
    EventRecord,
    LeadEntry,
    OutboxMessage,
    Role,
    User,
    Webinar,
    WebinarStatus,
)
from sandbox import FakeTelegram
from tests.bot_support import register, tick
from tests.room_support import make_webinar

CONFIRMED = "✅ Вы зарегистрированы на вебинар"
HOSTILE = "<b>Партнёрство</b> & <i>Co"


def with_text(messages: list[dict[str, Any]], start: str) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("text", "").startswith(start)]


def button(message: dict[str, Any]) -> dict[str, Any]:
    (row,) = message["reply_markup"]["inline_keyboard"]
    (only,) = row
    return dict(only)


async def replay(rt: main.Runtime, name: str) -> None:
    """Every stored `name` event delivered again to every subscriber (as after a crash
    between the work and its bookkeeping), and published once more (a retried command)."""
    records = await EventRecord.filter(name=name).order_by("id")
    await EventDelivery.filter(event_id__in=[r.id for r in records]).update(
        status=DeliveryStatus.PENDING, next_attempt_at=0
    )
    await rt.hub.sweep()
    for record in records:
        event: Event = CATALOGUE[name].payload.from_payload(record.payload)
        await rt.hub.publish(event)
    await tick(rt)


async def bound_registrant(
    rt: main.Runtime, fake: FakeTelegram, name: str, phone: str, **form: Any
) -> Any:
    """Someone registers through `/` (the next webinar) and opens the bot."""
    token = await register(rt, name=name, phone=phone, **form)
    person = fake.create_user(name, language_code="ru")
    fake.send_start(person.id, token)
    await fake.wait_for_messages(person.id)  # the answer to /start: the chat is bound
    await tick(rt)
    return person


async def make_partner(fake: FakeTelegram, clock: FakeClock, code: str = "pavel") -> Any:
    partner = fake.create_user("Pavel", language_code="en")
    partner.started = True  # he has the bot open
    await User.create(
        telegram_id=partner.id,
        chat_id=partner.id,
        role=Role.PARTNER,
        ref_code=code,
        language_code="en",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    return partner


async def test_the_confirmation_waits_for_the_chat_and_is_sent_once(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        webinar = await make_webinar(rt.hub, clock, title=HOSTILE)
        token = await register(rt, tz="Asia/Yekaterinburg")
        await tick(rt)
        assert await OutboxMessage.filter(key__startswith="webinar_confirmed:").count() == 0

        anna = fake.create_user("Анна", language_code="ru")
        clock.advance(3600)  # she opens the bot an hour later
        fake.send_start(anna.id, token)
        await fake.wait_for_messages(anna.id, 3)
        await tick(rt)
        messages = fake.bot_messages(anna.id)
        # The answer to /start, the welcome (the scenario keeps working) and the confirmation.
        assert len(messages) == 3
        assert with_text(messages, "✅ Готово")
        assert with_text(messages, "Здравствуйте, Анна!")
        (confirmation,) = with_text(messages, CONFIRMED)
        text = confirmation["text"]
        assert HOSTILE in text  # shown as text, not markup
        # 19:00 in Moscow is 21:00 in her zone; the message says which zone that is.
        assert "среда, 20 января 2027, 21:00 (Asia/Yekaterinburg, ваш часовой пояс)" in text
        assert button(confirmation) == {
            "text": "Войти в комнату вебинара",
            "web_app": {"url": rt.links.room_url(webinar)},
        }

        # Replays of both events that can send it send nothing more.
        await replay(rt, "client_webinar_registered")
        await replay(rt, "core_lead_bound")
        assert len(fake.bot_messages(anna.id)) == 3


async def test_a_lead_with_a_chat_is_confirmed_at_once_in_the_webinars_zone(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        # Anna came through the form before any webinar existed, and opened the bot.
        anna = await bound_registrant(rt, fake, "Анна", "+7 916 123-45-67", tz="")
        before = len(fake.bot_messages(anna.id))
        webinar = await make_webinar(rt.hub, clock)
        await register(rt, name="Анна", phone="+7 916 123-45-67", tz="")
        await tick(rt)
        (confirmation,) = with_text(fake.bot_messages(anna.id), CONFIRMED)
        assert len(fake.bot_messages(anna.id)) == before + 1
        assert (
            "20 января 2027, 19:00 (Europe/Moscow, часовой пояс вебинара)" in (confirmation["text"])
        )
        assert button(confirmation)["web_app"]["url"] == rt.links.room_url(webinar)
        assert await LeadEntry.all().count() == 1


async def test_cancelling_tells_every_registrant_once(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        webinar = await make_webinar(rt.hub, clock, title=HOSTILE)
        anna = await bound_registrant(rt, fake, "Анна", "+7 916 123-45-67")
        boris = await bound_registrant(rt, fake, "Борис", "+7 916 765-43-21")
        # Vera registers but has not opened the bot yet.
        vera_token = await register(rt, name="Вера", phone="+7 916 000-00-01")
        counts = {p.id: len(fake.bot_messages(p.id)) for p in (anna, boris)}

        change = await set_status(rt.hub, clock, webinar.id, WebinarStatus.CANCELLED, actor=None)
        assert change.outcome.value == "applied"
        await tick(rt)
        for person in (anna, boris):
            messages = fake.bot_messages(person.id)
            assert len(messages) == counts[person.id] + 1
            (notice,) = with_text(messages, "❌ Вебинар отменён")
            assert HOSTILE in notice["text"]
            assert "reply_markup" not in notice  # no way into a room that will not open

        await replay(rt, "core_webinar_set_status")
        assert [len(fake.bot_messages(p.id)) for p in (anna, boris)] == [
            counts[anna.id] + 1,
            counts[boris.id] + 1,
        ]

        # Vera opens the bot later: she is told it is cancelled, not invited to it.
        vera = fake.create_user("Вера", language_code="ru")
        fake.send_start(vera.id, vera_token)
        await fake.wait_for_messages(vera.id)
        await tick(rt)
        messages = fake.bot_messages(vera.id)
        assert len(with_text(messages, "❌ Вебинар отменён")) == 1
        assert not with_text(messages, CONFIRMED)

        # Registration on the page is closed.
        async with aiohttp.ClientSession() as http, http.get(rt.links.page_url(webinar)) as page:
            html = await page.text()
        assert 'data-status="cancelled"' in html
        assert 'name="phone"' not in html


async def test_a_new_start_time_is_told_once_per_change(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        webinar = await make_webinar(rt.hub, clock)
        anna = await bound_registrant(rt, fake, "Анна", "+7 916 123-45-67")
        before = len(fake.bot_messages(anna.id))

        moved = WebinarDraft(start="2027-01-22T18:30")
        await edit_webinar(rt.hub, clock, webinar.id, moved, actor=None)
        # Another edit that leaves the start alone tells nobody anything.
        await edit_webinar(rt.hub, clock, webinar.id, WebinarDraft(title="Новое"), actor=None)
        await tick(rt)
        messages = fake.bot_messages(anna.id)
        assert len(messages) == before + 1, [m["text"][:40] for m in messages]
        (notice,) = with_text(messages, "🕒 Вебинар перенесён")
        assert "пятница, 22 января 2027, 18:30 (Europe/Moscow" in notice["text"]
        assert "Было: среда, 20 января 2027, 19:00" in notice["text"]
        assert button(notice)["web_app"]["url"] == rt.links.room_url(webinar)

        await replay(rt, "core_webinar_updated")
        assert len(fake.bot_messages(anna.id)) == before + 1

        # Moved back: a change of its own, told again.
        await edit_webinar(
            rt.hub, clock, webinar.id, WebinarDraft(start="2027-01-20T19:00"), actor=None
        )
        await tick(rt)
        assert len(with_text(fake.bot_messages(anna.id), "🕒 Вебинар перенесён")) == 2


async def test_the_partner_hears_of_registrations_and_entries_once_each(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    partner = await make_partner(fake, clock)
    async with product() as rt:
        # Boris came through Pavel's link before there was a webinar: a new-lead notice.
        await register(rt, name="Борис", phone="+7 916 765-43-21", query={"ref": "pavel"})
        await tick(rt)
        assert len(fake.bot_messages(partner.id)) == 1

        webinar = await make_webinar(rt.hub, clock, title=HOSTILE)
        # Anna is new and registers at once: one message for the one fact.
        await register(rt, name="Анна", query={"ref": "pavel"})
        await tick(rt)
        messages = fake.bot_messages(partner.id)
        assert len(messages) == 2
        assert messages[1]["text"].startswith("🆕 New lead")
        assert (
            f"Webinar: {HOSTILE}, Wednesday, 20 January 2027, 19:00 (Europe/Moscow)"
            in (messages[1]["text"])
        )

        # Boris, known already, registers for the webinar: a notice of its own.
        await register(rt, name="Борис", phone="+7 916 765-43-21", query={"ref": "pavel"})
        await tick(rt)
        messages = fake.bot_messages(partner.id)
        assert len(messages) == 3
        assert messages[2]["text"].startswith("📝 Your lead registered for a webinar")
        assert "Name: Борис" in messages[2]["text"]
        assert HOSTILE in messages[2]["text"]
        assert "callback_data" in button(messages[2])  # the lead card

        # Anna comes to the room through her personal link, twice: one notice.
        anna = await LeadEntry.get(name="Анна")
        link = rt.links.room_link(webinar, anna.id)
        async with aiohttp.ClientSession() as http:
            for _ in range(2):
                async with http.get(link, allow_redirects=False) as answer:
                    assert answer.status == 303
        await tick(rt)
        await replay(rt, "client_webinar_entered")
        await replay(rt, "client_webinar_registered")
        messages = fake.bot_messages(partner.id)
        assert len(messages) == 4
        assert messages[3]["text"].startswith("👀 Your lead came to the webinar room")
        assert "Name: Анна" in messages[3]["text"]


async def test_a_candidates_webinars_list_with_the_room_button(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        # Nothing registered yet: said so, and where to register.
        zoe = fake.create_user("Zoe", language_code="ru")
        sent = fake.send_text(zoe.id, "/webinars")
        (reply,) = await fake.wait_for_messages(zoe.id, after=sent["message_id"])
        assert reply["text"].startswith("Вы пока не зарегистрированы ни на один вебинар.")
        assert "Когда вебинар будет запланирован" in reply["text"]

        past = await make_webinar(rt.hub, clock, title="Прошлый", start="2027-01-16T19:00")
        webinar = await make_webinar(rt.hub, clock, title=HOSTILE)
        sent = fake.send_text(zoe.id, "/webinars")
        (reply,) = await fake.wait_for_messages(zoe.id, after=sent["message_id"])
        assert "Чтобы зарегистрироваться" in reply["text"]
        assert "Прошлый" in reply["text"]  # the next one: the page link is in the text

        anna = await bound_registrant(rt, fake, "Анна", "+7 916 123-45-67")  # → «Прошлый»
        await set_status(rt.hub, clock, past.id, WebinarStatus.LIVE, actor=None)
        await register(rt, name="Анна", phone="+7 916 123-45-67")  # → the next one now
        await set_status(rt.hub, clock, past.id, WebinarStatus.FINISHED, actor=None)
        await edit_webinar(
            rt.hub,
            clock,
            past.id,
            WebinarDraft(recording_url="https://video.example.com/rec/1"),
            actor=None,
        )
        await tick(rt)
        sent = fake.send_text(anna.id, "/webinars")
        (reply,) = await fake.wait_for_messages(anna.id, after=sent["message_id"])
        text = reply["text"]
        assert text.startswith("Вебинары, на которые вы зарегистрированы")
        assert text.index(HOSTILE) < text.index("Прошлый")  # coming first, past after
        assert "среда, 20 января 2027, 19:00 (Europe/Moscow, ваш часовой пояс)" in text
        assert "Прошлый — прошёл" in text
        rows = reply["reply_markup"]["inline_keyboard"]
        assert rows[0][0]["web_app"] == {"url": rt.links.room_url(webinar)}
        assert rows[0][0]["text"].startswith("🚪 <b>Партнёрство")  # a label is plain text
        assert rows[1][0]["url"] == "https://video.example.com/rec/1"

        # A speaker's /webinars is the control screen, not this list.
        speaker = fake.create_user("Мария", language_code="ru")
        await User.create(
            telegram_id=speaker.id,
            role=Role.SPEAKER,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        sent = fake.send_text(speaker.id, "/webinars")
        (reply,) = await fake.wait_for_messages(speaker.id, after=sent["message_id"])
        assert not reply["text"].startswith("Вебинары, на которые")
        assert not reply["text"].startswith("Вы пока не")


async def test_web_app_buttons_only_where_telegram_takes_them(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product() as rt:
        assert rt.bot is not None
        group = fake.create_group("Партнёры")
        anna = fake.create_user("Anna")
        anna.started = True
        for target, url, error in (
            (group.id, "https://x.example/", "BUTTON_TYPE_INVALID"),
            (anna.id, "http://x.example/", "Only HTTPS links are allowed"),
        ):
            room = InlineKeyboardButton(text="Room", web_app=WebAppInfo(url=url))
            markup = InlineKeyboardMarkup(inline_keyboard=[[room]])
            with pytest.raises(TelegramBadRequest, match=error):
                await rt.bot.send_message(target, "hi", reply_markup=markup)
        # Over HTTPS in a private chat it is taken.
        room = InlineKeyboardButton(text="Room", web_app=WebAppInfo(url="https://x.example/"))
        markup = InlineKeyboardMarkup(inline_keyboard=[[room]])
        await rt.bot.send_message(anna.id, "hi", reply_markup=markup)


def test_the_room_button_is_a_mini_app_only_where_telegram_takes_one() -> None:
    webinar = Webinar(id=7, slug="partnerstvo")
    secret = "k" * 40

    def made(base: str, chat_id: int, *, sandbox: bool = False) -> dict[str, Any]:
        links = Links(base_url=base, sandbox=sandbox, secret_key=secret)
        return room_button(links, webinar, 5, chat_id, "Войти").as_dict()

    https = "https://funnel.example.com"
    assert made(https, 42) == {"text": "Войти", "web_app": {"url": f"{https}/w/partnerstvo/room"}}
    # A group, or a deployment without TLS: the personal link instead.
    assert made(https, -100)["url"].startswith(f"{https}/t/7/5.")
    assert made("http://funnel.example.com", 42)["url"].startswith("http://funnel.example.com/t/7/")
    # The sandbox on this machine: a Mini App over plain HTTP, as Telegram's test servers allow.
    assert "web_app" in made("http://127.0.0.1:8080", 42, sandbox=True)
