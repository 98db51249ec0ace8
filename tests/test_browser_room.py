"""The webinar room in a real Chromium against the whole product in sandbox mode: the waiting
screen turning live by itself, the chat between two viewers and a speaker who deletes, and
the zoom button that opens a new tab while the room stays."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect

from core.clock import FakeClock
from core.webinars import set_status
from models import ChatMessage, LeadEntry, Role, User, WebinarRegistration, WebinarStatus
from sandbox.api import FAKE as SANDBOX_FAKE
from tests.room_support import make_lead, make_user, make_webinar, register

pytestmark = pytest.mark.browser

TZ = "Asia/Yekaterinburg"


@pytest.fixture
async def contexts(browser: Any) -> AsyncIterator[Any]:
    """`await new_page()`: a page in a browser context of its own (its own cookies)."""
    made: list[Any] = []
    problems: list[str] = []

    async def new_page(**options: Any) -> Any:
        context = await browser.new_context(
            locale="ru-RU", timezone_id=TZ, viewport={"width": 1100, "height": 800}, **options
        )
        # The stream and the platforms are not reachable from here: answer for them.
        await context.route("https://cdn.example.com/**", lambda route: route.fulfill(status=404))
        await context.route(
            "https://zoom.us/**",
            lambda route: route.fulfill(content_type="text/html", body="<h1>Zoom</h1>"),
        )
        made.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        return page

    new_page.problems = problems  # type: ignore[attr-defined]
    yield new_page
    for context in made:
        await context.close()
    assert problems == []  # no script error in any page, whatever the test did


async def lead_link(service: Any, clock: FakeClock, webinar: Any, name: str) -> str:
    lead = await make_lead(clock, name)
    await register(service.hub, clock, webinar, lead)
    return str(service.links.room_link(webinar, lead.id))


async def speaker_in_the_bot(service: Any, name: str = "Мария") -> tuple[Any, Any]:
    """A speaker in the sandbox's Telegram (the fake inside the service), who opened the bot."""
    fake = service.app[SANDBOX_FAKE]
    speaker = fake.create_user(name, language_code="ru")
    sent = fake.send_start(speaker.id)
    await fake.wait_for_messages(speaker.id, after=sent["message_id"])
    await User.filter(telegram_id=speaker.id).update(role=Role.SPEAKER)
    return fake, speaker


async def press_in_the_bot(fake: Any, speaker: Any, command: str, data: str) -> dict[str, Any]:
    """The speaker sends `command` and presses the button `data` on the bot's answer."""
    sent = fake.send_text(speaker.id, command)
    (answer,) = await fake.wait_for_messages(speaker.id, after=sent["message_id"])
    query = fake.press_button(speaker.id, answer["message_id"], data=data)
    result: dict[str, Any] = await fake.wait_for_answer(query, timeout=10)
    return result


async def test_register_enter_and_the_room_turns_live_when_the_speaker_presses_start_in_the_bot(
    service: Any, service_url: str, contexts: Any, clock: FakeClock
) -> None:
    webinar = await make_webinar(service.hub, clock)
    anna = await contexts()
    # The public page: register for this webinar.
    await anna.goto(f"{service_url}/w/{webinar.slug}")
    await anna.get_by_label("Ваше имя", exact=True).fill("Анна Петрова")
    await anna.get_by_label("Телефон", exact=True).fill("8 (916) 123-45-67")
    await anna.get_by_label("Я согласен").check()
    await anna.get_by_role("button", name="Зарегистрироваться").click()
    await anna.wait_for_url("**/thanks**")
    lead = await LeadEntry.get(phone="+79161234567")
    assert await WebinarRegistration.filter(webinar_id=webinar.id, lead_id=lead.id).exists()

    # Her personal link opens the room: the waiting screen, in her own time zone.
    await anna.goto(str(service.links.room_link(webinar, lead.id)))
    await expect(anna.locator("#stage-scheduled")).to_be_visible()
    # 2027-01-20 19:00 in Moscow is 21:00 in Yekaterinburg, the viewer's zone.
    await expect(anna.locator("#start-time")).to_contain_text("21:00")
    await expect(anna.locator("#countdown")).to_have_text(
        re.compile(r"^5 дней 0(8:00:00|7:5\d:\d\d)$")
    )
    await expect(anna.locator("#chat")).to_be_hidden()
    await anna.screenshot(path="/tmp/room-waiting.png")
    boris = await contexts()
    await boris.goto(await lead_link(service, clock, webinar, "Борис"))

    # The speaker presses Start in the bot: both rooms turn live without a reload.
    fake, maria = await speaker_in_the_bot(service)
    started = await press_in_the_bot(fake, maria, "/webinars", f"wbc:{webinar.id}:start")
    assert started["text"] == "Запущено: в комнатах идёт эфир."
    for page in (anna, boris):
        await expect(page.locator("#stage-player")).to_be_visible()
        await expect(page.locator("#stage-scheduled")).to_be_hidden()
        await expect(page.locator("#chat")).to_be_visible()
    await expect(anna.locator("#player video")).to_have_count(1)
    await anna.screenshot(path="/tmp/room-live.png")

    # A message posted in one browser is seen live in the other.
    await anna.locator("#chat-text").fill("<b>Здравствуйте!</b>")
    await anna.locator("#chat-text").press("Enter")
    for page in (anna, boris):
        await expect(page.locator("#messages .message .text")).to_have_text("<b>Здравствуйте!</b>")

    # The speaker deletes it from the bot: it disappears from both rooms.
    (message,) = await ChatMessage.filter(webinar_id=webinar.id)
    deleted = await press_in_the_bot(fake, maria, "/webinars", f"wbm:{webinar.id}:show:0")
    assert deleted.get("show_alert") is not True
    (screen,) = await fake.wait_until(
        lambda: [m for m in fake.bot_messages(maria.id) if m["text"].startswith("💬")], timeout=10
    )
    assert "<b>Здравствуйте!</b>" in screen["text"]
    query = fake.press_button(
        maria.id, screen["message_id"], data=f"wbm:{webinar.id}:del:{message.id}"
    )
    assert (await fake.wait_for_answer(query, timeout=10))["text"] == "Удалено у всех."
    for page in (anna, boris):
        await expect(page.locator("#messages .message")).to_have_count(0)

    # Stop in the bot: the closing screen.
    stopped = await press_in_the_bot(fake, maria, "/webinars", f"wbc:{webinar.id}:stop")
    assert stopped["text"] == "Остановлено: вебинар завершён."
    await expect(anna.locator("#stage-finished")).to_contain_text("Вебинар закончился")
    await expect(anna.locator("#player video")).to_have_count(0)


async def test_a_message_is_seen_live_and_a_speaker_deletes_it_for_both(
    service: Any, contexts: Any, clock: FakeClock
) -> None:
    webinar = await make_webinar(service.hub, clock)
    await set_status(service.hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    anna = await contexts()
    boris = await contexts()
    maria = await contexts()
    await anna.goto(await lead_link(service, clock, webinar, "<b>Анна</b> Петрова"))
    await boris.goto(await lead_link(service, clock, webinar, "Борис"))
    host = await make_user(clock, 555, Role.SPEAKER, first_name="Мария")
    await maria.goto(str(service.links.speaker_room_link(webinar, host.id)))
    await expect(maria.locator(".speaker-badge")).to_be_visible()

    text = "<script>alert(1)</script><img src=x onerror=alert(2)> Здравствуйте!"
    await anna.locator("#chat-text").fill(text)
    await anna.locator("#chat-text").press("Enter")

    for page in (boris, anna, maria):
        message = page.locator("#messages .message")
        await expect(message).to_have_count(1)
        await expect(message.locator(".text")).to_have_text(text)  # shown, not run
        await expect(message.locator(".author")).to_have_text("<b>Анна</b>")
        assert await message.locator("img, script, b").count() == 0
    await expect(anna.locator("#chat-text")).to_have_value("")
    await expect(boris.locator("#messages .tool")).to_have_count(0)  # viewers cannot moderate
    await maria.screenshot(path="/tmp/room-speaker.png")

    await maria.locator("#messages .message").get_by_role("button", name="Удалить").click()

    for page in (anna, boris, maria):
        await expect(page.locator("#messages .message")).to_have_count(0)

    # The speaker closes the chat: the viewers' input gives way to a notice.
    await maria.get_by_role("button", name="Закрыть чат").click()
    await expect(boris.locator("#chat-state")).to_have_text("Спикер пока закрыл чат.")
    await expect(boris.locator("#chat-form")).to_be_hidden()
    await expect(maria.get_by_role("button", name="Открыть чат")).to_be_visible()


async def test_a_flood_gets_a_notice_in_the_room(service: Any, contexts: Any, clock) -> None:
    webinar = await make_webinar(service.hub, clock)
    await set_status(service.hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    page = await contexts()
    await page.goto(await lead_link(service, clock, webinar, "Анна"))
    for n in range(6):
        await page.locator("#chat-text").fill(f"сообщение {n}")
        await page.locator("#chat-send").click()
        if n < 5:
            await expect(page.locator("#messages .message")).to_have_count(n + 1)
    await expect(page.locator("#chat-notice")).to_have_text(
        "Вы пишете слишком часто. Подождите 3 с и отправьте ещё раз."
    )
    await expect(page.locator("#chat-text")).to_have_value("сообщение 5")  # kept to resend


async def test_the_zoom_button_opens_a_new_tab_while_the_room_stays(
    service: Any, contexts: Any, clock: FakeClock
) -> None:
    webinar = await make_webinar(
        service.hub, clock, stream_type="zoom", stream_url="https://zoom.us/j/8123456789"
    )
    page = await contexts()
    await page.goto(await lead_link(service, clock, webinar, "Анна"))
    await expect(page.locator("#stage-scheduled")).to_be_visible()
    fake, maria = await speaker_in_the_bot(service)
    await press_in_the_bot(fake, maria, "/webinars", f"wbc:{webinar.id}:start")
    room_url = page.url
    join = page.get_by_role("link", name="Открыть Zoom")
    await expect(join).to_have_attribute("target", "_blank")
    await expect(join).to_have_attribute("rel", "noopener")
    await expect(page.locator("#chat")).to_be_hidden()
    await page.screenshot(path="/tmp/room-zoom.png")

    async with page.context.expect_page() as opened:
        await join.click()
    tab = await opened.value
    await tab.wait_for_load_state()
    assert tab.url == "https://zoom.us/j/8123456789"
    assert page.url == room_url  # the room stays open in its own tab
    await expect(page.locator("#stage-external")).to_be_visible()
    assert await tab.evaluate("window.opener") is None  # noopener


async def test_the_sandbox_opens_the_room_as_a_mini_app_for_its_user(
    service: Any, service_url: str, contexts: Any, clock: FakeClock
) -> None:
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

    from sandbox.api import FAKE

    webinar = await make_webinar(service.hub, clock)
    person = service.app[FAKE].create_user("Анна")
    person.started = True  # she has the bot open
    user = await make_user(clock, person.id, Role.CANDIDATE, first_name="Анна")
    lead = await make_lead(clock, "Анна", user_id=user.id)
    await register(service.hub, clock, webinar, lead)
    button = InlineKeyboardButton(
        text="Войти в комнату", web_app=WebAppInfo(url=service.links.room_url(webinar))
    )
    await service.bot.send_message(
        person.id,
        "Вебинар скоро начнётся",
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
    )
    page = await contexts()
    await page.goto(f"{service_url}/sandbox?user={person.id}")

    async with page.context.expect_page() as opened:
        await page.get_by_role("button", name="Войти в комнату").click()
    app = await opened.value

    # Telegram's data in the fragment signs her in; the room opens without it.
    await expect(app.locator("#stage-scheduled")).to_be_visible()
    assert app.url == f"{service_url}/w/{webinar.slug}/room"
    await app.screenshot(path="/tmp/room-mini-app.png")
