"""A webinar from the viewer's chair to the follow-up, in a real Chromium against the whole
product in sandbox mode: a candidate bound to a sandbox Telegram user (with a partner)
opens the live room from their personal link and stays for part of it — the presence
reports are the page's own (its heartbeat timer, driven by Playwright's clock, and the
beacon when she leaves) while the service's clock is the test's — then goes back to her
Telegram chat; the speaker stops the webinar in the bot; she reads the attended follow-up
in her sandbox chat, the registrant who never came gets the not-attended one with the
recording, and their partner one notice with who attended for how long."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from playwright.async_api import expect

import main
from core.clock import FakeClock
from core.presence import BEAT
from core.settings import Settings
from models import Role, User
from sandbox.api import FAKE
from tests.room_support import make_lead, make_user, make_webinar, register
from tests.test_browser_room import press_in_the_bot, speaker_in_the_bot
from web import keys as web_keys

pytestmark = pytest.mark.browser

STAYS = 16  # heartbeats in the room: 4 minutes of the 6 the webinar is live (≥ 50%)
LIVE_SECONDS = 6 * 60
RECORDING = "https://cdn.example.com/rec/partnership.mp4"


@pytest.fixture
async def fast_service(settings: Settings, clock: FakeClock) -> AsyncIterator[Any]:
    """The service in sandbox mode; several answers to one chat without the 1/s pause."""
    rt = main.build(settings.model_copy(update={"outbox_chat_rate": "50/s"}), clock)
    await main.start(rt)
    yield rt
    await main.stop(rt)


def url_of(rt: Any) -> str:
    return f"http://127.0.0.1:{rt.runner.addresses[0][1]}"


def more_than(presence: Any, reports: int) -> Callable[[], bool]:
    """Whether the tracker has taken a report since it had `reports`."""
    return lambda: bool(presence.reports > reports)


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll `check` (real time) until it gives something truthy."""
    async with asyncio.timeout(timeout):
        while not (found := check()):
            await asyncio.sleep(0.02)
    return found


async def test_a_viewer_stays_for_part_of_it_and_the_right_follow_ups_arrive(
    fast_service: Any, browser: Any, clock: FakeClock
) -> None:
    rt = fast_service
    fake = rt.app[FAKE]
    presence = rt.app[web_keys.PRESENCE]
    webinar = await make_webinar(rt.hub, clock, title="Партнёрство 2027", recording_url=RECORDING)

    # The partner and two of their candidates, each bound to a sandbox Telegram user.
    paul = fake.create_user("Павел", language_code="ru")
    sent = fake.send_start(paul.id)
    await fake.wait_for_messages(paul.id, after=sent["message_id"])
    await User.filter(telegram_id=paul.id).update(role=Role.PARTNER)
    partner = await User.get(telegram_id=paul.id)
    leads = {}
    for name in ("Анна", "Борис"):
        person = fake.create_user(name, language_code="ru")
        person.started = True  # bound through their deep link before
        user = await make_user(clock, person.id, Role.CANDIDATE, first_name=name, chat_id=person.id)
        lead = await make_lead(
            clock, name, user_id=user.id, chat_id=person.id, partner_id=partner.id
        )
        await register(rt.hub, clock, webinar, lead)
        leads[name] = (person, lead)
    anna, anna_lead = leads["Анна"]
    boris, _ = leads["Борис"]

    # The speaker starts it in the bot.
    _, maria = await speaker_in_the_bot(rt)
    started = await press_in_the_bot(fake, maria, "/webinars", f"wbc:{webinar.id}:start")
    assert started["text"] == "Запущено: в комнатах идёт эфир."
    began = clock.now()

    # Anna opens her personal link; the page reports at once and then on its timer.
    context = await browser.new_context(locale="ru-RU", viewport={"width": 800, "height": 700})
    await context.route("https://cdn.example.com/**", lambda route: route.fulfill(status=404))
    problems: list[str] = []
    try:
        await context.clock.install()
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        await page.goto(str(rt.links.room_link(webinar, anna_lead.id)))
        await expect(page.locator("#stage-player")).to_be_visible()
        await until(lambda: presence.get(webinar.id, anna_lead.id))
        for _ in range(STAYS):
            reports = presence.reports
            clock.advance(BEAT)
            await page.clock.run_for(int(BEAT * 1000))
            await until(more_than(presence, reports))
        here = presence.get(webinar.id, anna_lead.id)
        assert here.present
        assert here.since == began  # one visit, counted from her first report

        # She goes back to Telegram: the room's beacon says she is gone.
        await page.goto(f"{url_of(rt)}/sandbox?user={anna.id}")
        await until(lambda: not presence.get(webinar.id, anna_lead.id).present)

        # Two minutes later the speaker stops it in the bot.
        clock.advance(LIVE_SECONDS - STAYS * BEAT)
        stopped = await press_in_the_bot(fake, maria, "/webinars", f"wbc:{webinar.id}:stop")
        assert stopped["text"] == "Остановлено: вебинар завершён."

        # Anna reads the attended follow-up in her chat (the sandbox page, live).
        thanks = (
            "🙏 Анна, спасибо, что были с нами на вебинаре «Партнёрство 2027»! Остались "
            "вопросы? Напишите их здесь — мы передадим. Хотите стать партнёром? "
            "Отправьте /apply."
        )
        await expect(page.locator(".row.in").last).to_contain_text(thanks, timeout=10_000)
        assert problems == []
    finally:
        await context.close()

    # Boris never came: the not-attended follow-up, with the recording's button.
    def missed() -> list[dict[str, Any]]:
        return [m for m in fake.bot_messages(boris.id) if "нам не хватало" in m.get("text", "")]

    (offer,) = await until(missed)
    assert offer["text"] == (
        "Борис, нам не хватало вас на вебинаре «Партнёрство 2027». Запись готова — "
        "посмотрите её, когда вам удобно."
    )
    [[button]] = offer["reply_markup"]["inline_keyboard"]
    assert (button["text"], button["url"]) == ("▶️ Смотреть запись", RECORDING)
    assert [m["text"] for m in fake.bot_messages(anna.id)].count(thanks) == 1
    assert not [m for m in fake.bot_messages(anna.id) if "нам не хватало" in m.get("text", "")]

    # The partner: one notice for the webinar, who attended and for how long.
    def reports_to_paul() -> list[str]:
        return [m["text"] for m in fake.bot_messages(paul.id) if m["text"].startswith("📊")]

    (report,) = await until(reports_to_paul)
    assert report.startswith("📊 Вебинар «Партнёрство 2027»: ваши лиды")
    assert "✅ Анна: 4 мин" in report
    assert "❌ Борис: 0 мин" in report
    assert not [
        m for m in fake.bot_messages(anna.id) + fake.bot_messages(boris.id) if "📊" in m["text"]
    ]
    await asyncio.sleep(0.3)  # nothing more comes
    assert len(reports_to_paul()) == 1
    assert clock.now() - began == LIVE_SECONDS
