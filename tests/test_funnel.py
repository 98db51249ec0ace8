"""The funnel end to end: the whole product, a real browser-like HTTP client for the form,
and the fake Bot API standing in for Telegram (over HTTP, as in production)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from core.clock import FakeClock
from models import (
    EventRecord,
    LeadEntry,
    OutboxMessage,
    RefVisit,
    Role,
    ScenarioRun,
    TelegramChat,
    User,
)
from sandbox import FakeTelegram
from tests.bot_support import notice_in, register, texts, tick, welcomed

WELCOME = "Здравствуйте, Анна! 👋"
FOLLOWUP = "Анна, пока ждёте вебинар"


async def test_form_deep_link_welcome_and_followup(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        token = await register(rt)
        anna = fake.create_user("Анна", language_code="ru")
        clock.advance(180)  # she opens the bot three minutes after the form
        sent = fake.send_start(anna.id, token)
        replies = await fake.wait_for_messages(anna.id, 2, after=sent["message_id"])
        assert replies[0]["text"].startswith("✅ Готово")
        assert replies[1]["text"].startswith(WELCOME)

        clock.advance(599)
        await tick(rt)
        assert len(fake.bot_messages(anna.id)) == 2
        clock.advance(1)
        await tick(rt)
        await fake.wait_for_messages(anna.id, 3, timeout=5)
        await tick(rt)
        bot_texts = texts(fake, anna.id)
        assert len(bot_texts) == 3
        assert bot_texts[2].startswith(FOLLOWUP)
        lead = await LeadEntry.get(chat_id=anna.id)
        assert lead.lead_source == "web_form"
        assert lead.user_id is not None


async def test_restart_in_the_middle_of_the_delay(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    anna = fake.create_user("Анна", language_code="ru")
    async with product() as rt:
        token = await register(rt)
        fake.send_start(anna.id, token)
        await fake.wait_for_messages(anna.id, 2)
        clock.advance(300)
        await tick(rt)
    # The process stops five minutes into the ten; it comes back after twenty.
    clock.advance(1200)
    async with product() as rt:
        await fake.wait_for_messages(anna.id, 3, timeout=10)  # overdue: sent promptly
        await tick(rt)
        clock.advance(3600)
        await tick(rt)
        # the welcome and the follow-up, once each; the answer to /start, once
        assert await OutboxMessage.filter(key__startswith="scenario:").count() == 2
        assert await OutboxMessage.filter(key__startswith="reply:").count() == 1
    bot_texts = texts(fake, anna.id)
    assert len(bot_texts) == 3
    assert bot_texts[2].startswith(FOLLOWUP)


async def test_the_referring_partner_hears_about_the_lead_at_once(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    partner = fake.create_user("Pavel", language_code="en")
    fake.send_start(partner.id)
    await User.create(
        telegram_id=partner.id,
        chat_id=partner.id,
        role=Role.PARTNER,
        ref_code="pavel",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    async with product() as rt:
        await register(rt, name="<b>Eve</b> & Co", query={"ref": "pavel", "utm_source": "vk"})
        # the answer to his /start and the notice, in whichever order they were queued
        notice = notice_in(await fake.wait_for_messages(partner.id, 2))
        assert notice["text"].startswith("🆕 New lead")
        assert "<b>Eve</b> & Co" in notice["text"]  # shown as text, not as markup
        assert "+79161234567" in notice["text"]
        assert "source=vk" in notice["text"]
        button = notice["reply_markup"]["inline_keyboard"][0][0]
        query_id = fake.press_button(partner.id, notice["message_id"], data=button["callback_data"])
        await fake.wait_for_answer(query_id)
        card = await fake.wait_for_messages(partner.id, 3)
        assert "<b>Eve</b> & Co" in card[-1]["text"]


async def test_without_a_partner_the_admins_are_told(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    admin = fake.create_user("Ada", language_code="ru")
    fake.send_start(admin.id)
    async with product(admin_ids=(admin.id,)) as rt:
        await register(rt)
        # the answer to her /start and the notice, in whichever order they were queued
        notice = notice_in(await fake.wait_for_messages(admin.id, 2))
        assert notice["text"].startswith("🆕 Новый лид")


async def test_a_stranger_cannot_open_someone_elses_lead(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product() as rt:
        await register(rt)
        lead = await LeadEntry.first()
        assert lead is not None
        mallory = fake.create_user("Mallory", language_code="en")
        sent = fake.send_start(mallory.id)
        await fake.wait_for_messages(mallory.id, after=sent["message_id"])
        # A forged button press: a client may send any callback data for any message.
        query_id = fake.world.new_query_id()
        reply = fake.bot_messages(mallory.id)[0]
        query = {
            "id": query_id,
            "from": mallory.to_api(),
            "message": dict(reply),
            "chat_instance": "1",
            "data": f"lead:{lead.id}",
        }
        fake.world.callbacks[query_id] = query
        fake.world.push_update("callback_query", query)
        answer = await fake.wait_for_answer(query_id)
        assert answer["text"] == "This lead is not in your list."
        assert len(fake.bot_messages(mallory.id)) == 1


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("forged-token-that-was-never-issued", "I don't recognise this link"),
        ("ref_", "I don't recognise this link"),
    ],
)
async def test_links_that_are_not_ours_get_a_friendly_answer(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], payload: str, expected: str
) -> None:
    fake, _ = telegram
    async with product():
        user = fake.create_user("Zoe", language_code="en")
        sent = fake.send_start(user.id, payload)
        (reply,) = await fake.wait_for_messages(user.id, after=sent["message_id"])
        assert reply["text"].startswith(expected)
        # typed by hand, with what a deep link can't carry
        sent = fake.send_text(user.id, "/start <script>alert(1)</script>")
        (reply,) = await fake.wait_for_messages(user.id, after=sent["message_id"])
        assert reply["text"].startswith(expected)
        assert await LeadEntry.filter(user_id__not_isnull=True).count() == 0


async def test_a_deep_link_opened_twice_and_from_another_account(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product() as rt:
        token = await register(rt)
        anna = fake.create_user("Анна", language_code="ru")
        fake.send_start(anna.id, token)
        await fake.wait_for_messages(anna.id, 2)
        again = fake.send_start(anna.id, token)
        (reply,) = await fake.wait_for_messages(anna.id, after=again["message_id"])
        assert reply["text"].startswith("Этот чат уже привязан")

        thief = fake.create_user("Thief", language_code="en")
        sent = fake.send_start(thief.id, token)
        (reply,) = await fake.wait_for_messages(thief.id, after=sent["message_id"])
        assert reply["text"].startswith("This link has already been opened")
        lead = await LeadEntry.get(chat_id=anna.id)
        assert lead.chat_id == anna.id
        await tick(rt)
        assert await ScenarioRun.filter(lead_id=lead.id).count() == 1


async def test_an_expired_deep_link(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        token = await register(rt)
        clock.advance(31 * 86400)
        user = fake.create_user("Late", language_code="en")
        sent = fake.send_start(user.id, token)
        (reply,) = await fake.wait_for_messages(user.id, after=sent["message_id"])
        assert reply["text"].startswith("This link has expired")


async def test_a_partners_telegram_link_creates_an_attributed_lead(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    partner = fake.create_user("Pavel", language_code="ru")
    fake.send_start(partner.id)
    owner = await User.create(
        telegram_id=partner.id,
        chat_id=partner.id,
        role=Role.PARTNER,
        ref_code="pavel",
        first_name="Pavel",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    async with product():
        zoe = fake.create_user("Zoe", language_code="en")
        sent = fake.send_start(zoe.id, "ref_pavel")
        (reply,) = await fake.wait_for_messages(zoe.id, after=sent["message_id"])
        assert "invitation of Pavel" in reply["text"]
        lead = await LeadEntry.get(chat_id=zoe.id)
        assert (lead.lead_source, lead.partner_id, lead.lead_created_via) == (
            "telegram",
            owner.id,
            "core_ingest",
        )
        # The same person through another partner's link stays Pavel's (first touch).
        await fake.wait_for_messages(partner.id, 2)  # Pavel's notice
        again = fake.send_start(zoe.id, "ref_somebody")
        await fake.wait_for_messages(zoe.id, after=again["message_id"])
        lead = await LeadEntry.get(chat_id=zoe.id)
        assert lead.partner_id == owner.id
        assert await LeadEntry.all().count() == 1


async def test_language_follows_telegram_and_can_be_switched(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product():
        user = fake.create_user("Bob", language_code="en")
        sent = fake.send_start(user.id)
        (hello,) = await fake.wait_for_messages(user.id, after=sent["message_id"])
        assert hello["text"].startswith("Hello, Bob!")
        sent = fake.send_text(user.id, "/language")
        (menu,) = await fake.wait_for_messages(user.id, after=sent["message_id"])
        query_id = fake.press_button(user.id, menu["message_id"], data="lang:ru")
        await fake.wait_for_answer(query_id)
        sent = fake.send_text(user.id, "/help")
        (help_,) = await fake.wait_for_messages(user.id, after=sent["message_id"])
        assert help_["text"].startswith("Сюда приходят приглашения")


async def test_stop_cancels_the_scenario(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        anna = await welcomed(rt, fake)
        sent = fake.send_text(anna.id, "/stop")
        (reply,) = await fake.wait_for_messages(anna.id, after=sent["message_id"])
        assert reply["text"].startswith("Готово: больше не буду")
        clock.advance(3600)
        await tick(rt)
        assert len(fake.bot_messages(anna.id)) == 3  # welcome, binding answer, /stop answer
        run = await ScenarioRun.get(scenario="welcome")
        assert run.status == "cancelled"


async def test_a_lead_who_blocked_the_bot_is_marked_and_let_go(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        anna = await welcomed(rt, fake)
        fake.block_bot(anna.id)
        clock.advance(600)
        await tick(rt)
        await rt.hub.drain()
        followup = await OutboxMessage.filter(lead_id__not_isnull=True).order_by("-id").first()
        assert followup is not None
        assert followup.status == "unreachable"
        chat = await TelegramChat.get(chat_id=anna.id)
        assert chat.unreachable_at is not None
        # writing to the bot again makes the chat reachable
        fake.block_bot(anna.id, blocked=False)
        sent = fake.send_text(anna.id, "/help")
        await fake.wait_for_messages(anna.id, after=sent["message_id"])
        assert (await TelegramChat.get(chat_id=anna.id)).unreachable_at is None


async def test_without_a_telegram_language_the_registration_page_language_is_used(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product() as rt:
        token = await register(rt, query={"lang": "en"}, name="Anna")
        anna = fake.create_user("Anna", language_code="")
        fake.send_start(anna.id, token)
        replies = await fake.wait_for_messages(anna.id, 2)
        assert replies[0]["text"].startswith("✅ Done")
        assert replies[1]["text"].startswith("Hello, Anna! 👋")
        assert (await LeadEntry.get(chat_id=anna.id)).locale == "en"


async def test_a_partners_links_count_visits_and_leads(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    pavel = fake.create_user("Pavel", language_code="en")
    await User.create(
        telegram_id=pavel.id, role=Role.PARTNER, created_at=clock.now(), updated_at=clock.now()
    )
    async with product() as rt:
        sent = fake.send_text(pavel.id, "/ref")
        # the links, then their QR code (tests/test_referral_qr.py)
        links, _ = await fake.wait_for_messages(pavel.id, 2, after=sent["message_id"])
        code = (await User.get(telegram_id=pavel.id)).ref_code
        assert code
        assert f"{rt.links.base_url}/r/{code}" in links["text"]
        assert f"/?ref={code}" in links["text"]
        assert f"start=ref_{code}" in links["text"]
        assert "Visits: 0 · leads: 0 · in Telegram: 0" in links["text"]

        # Someone clicks the short link (from VK), lands on the form with ref and UTM.
        async with aiohttp.ClientSession() as http:
            async with http.get(
                f"{rt.links.base_url}/r/{code}",
                params={"utm_source": "vk", "evil": "x"},
                headers={"Referer": "https://vk.com/wall1"},
                allow_redirects=False,
            ) as click:
                assert click.status == 302
                assert click.headers["Location"] == f"/?ref={code}&utm_source=vk"
            async with http.get(f"{rt.links.base_url}/r/<script>", allow_redirects=False) as bad:
                assert bad.headers["Location"] == "/"
        visit = await RefVisit.get(code=code)
        assert (visit.utm, visit.referrer) == ({"utm_source": "vk"}, "https://vk.com/wall1")
        assert await RefVisit.all().count() == 1

        await register(rt, query={"ref": code, "utm_source": "vk"})
        await fake.wait_for_messages(pavel.id, 3)  # the links, their QR code, the notice
        sent = fake.send_text(pavel.id, "/ref")
        links, _ = await fake.wait_for_messages(pavel.id, 2, after=sent["message_id"])
        assert "Visits: 1 · leads: 1 · in Telegram: 0" in links["text"]


async def test_referral_links_are_for_partners(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product():
        zoe = fake.create_user("Zoe", language_code="en")
        sent = fake.send_text(zoe.id, "/ref")
        (reply,) = await fake.wait_for_messages(zoe.id, after=sent["message_id"])
        assert reply["text"] == "Sorry, this is not available to you (it needs “leads_view_own”)."
        assert (await User.get(telegram_id=zoe.id)).ref_code is None


async def test_stop_is_one_event_and_no_more_scenario_messages(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        anna = await welcomed(rt, fake)
        lead = await LeadEntry.get(chat_id=anna.id)
        sent = fake.send_text(anna.id, "/stop")
        await fake.wait_for_messages(anna.id, after=sent["message_id"])
        for _ in range(3):  # a day of the scenario's steps: none of them reaches Anna
            clock.advance(8 * 3600)
            await tick(rt)
        assert len(fake.bot_messages(anna.id)) == 3  # welcome, binding answer, /stop answer
        events = await EventRecord.filter(name="core_lead_unsubscribed")
        assert [(e.lead_id, e.payload["lead_id"]) for e in events] == [(lead.id, lead.id)]
        user = await User.get(telegram_id=anna.id)
        assert events[0].payload["actor"] == f"user:{user.id}"
        assert {r.status for r in await ScenarioRun.filter(lead_id=lead.id)} == {"cancelled"}
