"""The sandbox page in a real browser (Debian's chromium): what a person trying the product
sees when the registration thank-you page sends them to `/sandbox?start=<token>`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import FakeTelegram
from sandbox.api import FAKE
from tests.bot_support import register

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/sandbox-phone.png"
PHONE = {"viewport": {"width": 390, "height": 780}, "device_scale_factor": 2, "locale": "ru-RU"}


@pytest.fixture
def fake(service: Any) -> FakeTelegram:
    found: FakeTelegram = service.app[FAKE]
    return found


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    await context.close()
    assert errors == []  # no script error, whatever the test did


async def test_deep_link_opens_a_new_user_who_chats_and_presses_buttons(
    page: Any, fake: FakeTelegram, service: Any, service_url: str
) -> None:
    from playwright.async_api import expect

    await page.goto(f"{service_url}/sandbox?start=sometoken")

    # A new user was made, sent "/start sometoken", and the bot's answer appeared live
    # (a token no registration issued: the bot says so and points to the form).
    bubbles = page.locator(".row")
    await expect(bubbles.nth(1)).to_contain_text("Я не узнаю эту ссылку")
    await expect(bubbles.nth(0).locator(".text")).to_have_text("/start sometoken")
    [user] = fake.world.users.values()
    assert fake.messages(user.id)[0]["text"] == "/start sometoken"
    await expect(page.locator("#me-name")).to_have_text("Гость 1")
    assert page.url.endswith(f"/sandbox?user={user.id}")  # a reload keeps this user

    # The user types a message; the bot's answer follows it.
    await page.locator("#text").fill("Когда вебинар?")
    await page.locator("#text").press("Enter")
    await expect(page.locator(".row.out").last).to_contain_text("Когда вебинар?")
    await expect(page.locator(".row.in").last).to_contain_text("Я пока не понимаю")
    await expect(page.locator("#text")).to_have_value("")

    # The bot sends buttons; a callback button is answered, a URL button is a link.
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Записаться", callback_data="signup:1")],
            [InlineKeyboardButton(text="Сайт", url="https://example.com/webinar")],
        ]
    )
    await service.bot.send_message(
        user.id, "<b>Вебинар</b> в 19:00 — <i>придёте?</i>", reply_markup=keyboard
    )
    offer = page.locator(".row.in").last
    await expect(offer.locator("b")).to_have_text("Вебинар")
    site = offer.get_by_role("link", name="Сайт")
    await expect(site).to_have_attribute("href", "https://example.com/webinar")
    await expect(site).to_have_attribute("target", "_blank")
    await page.screenshot(path=SCREENSHOT)
    await offer.get_by_role("button", name="Записаться").click()
    await expect(page.locator("#toast")).to_have_text("Эта кнопка больше не действует.")
    presses = [u for u in fake.calls if u.method == "answerCallbackQuery"]
    assert len(presses) == 1


async def test_edits_deletions_and_hostile_text_show_as_telegram_would(
    page: Any, fake: FakeTelegram, service: Any, service_url: str
) -> None:
    from playwright.async_api import expect

    user = fake.create_user('<img src=x onerror="window.hacked=1">', language_code="en")
    fake.send_start(user.id)
    await fake.wait_for_messages(user.id)
    await page.goto(f"{service_url}/sandbox?user={user.id}")
    await expect(page.locator("#me-name")).to_have_text('<img src=x onerror="window.hacked=1">')
    await expect(page.locator(".row.in")).to_contain_text('Hello, <img src=x onerror="window')

    sent = await service.bot.send_message(user.id, "Starts at <b>19:00</b>")
    await expect(page.locator(".row.in").last).to_contain_text("Starts at 19:00")
    await service.bot.edit_message_text(
        text="Starts at <b>20:00</b>", chat_id=user.id, message_id=sent.message_id
    )
    await expect(page.locator(".row.in").last).to_contain_text("Starts at 20:00")
    await expect(page.locator(".row.in").last).to_contain_text("edited")
    await service.bot.delete_message(user.id, sent.message_id)
    await expect(page.locator(".row.in")).to_have_count(1)
    assert await page.evaluate("window.hacked") is None
    assert await page.locator("img").count() == 0


async def test_the_contact_button_shares_the_users_number(
    page: Any, fake: FakeTelegram, service: Any, service_url: str
) -> None:
    from playwright.async_api import expect

    await register(service)
    second = await register(service)  # the same person, in a second browser
    await page.goto(f"{service_url}/sandbox?start={second}")
    await expect(page.locator(".row.in").last).to_contain_text("подтвердите номер телефона")

    # A sandbox user has no number yet: the page asks for it once, as their account's.
    page.once("dialog", lambda dialog: dialog.accept("+7 916 123-45-67"))
    await page.locator(".reply-button", has_text="Отправить мой номер телефона").click()
    await expect(page.locator(".row.out .contact-phone")).to_have_text("+79161234567")
    await expect(page.locator(".row.in").nth(1)).to_contain_text("✅ Готово")
    await expect(page.locator(".row.in").nth(2)).to_contain_text("Здравствуйте, Анна!")
    await expect(page.locator("#reply-keyboard")).to_be_hidden()
    [user] = fake.world.users.values()
    assert fake.messages(user.id)[2]["contact"]["user_id"] == user.id
