"""The registration form in a real Chromium against the whole product in sandbox mode."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from models import LeadEntry, LeadTouch

pytestmark = pytest.mark.browser

TZ = "Asia/Yekaterinburg"


@pytest.fixture
async def page(browser):
    context = await browser.new_context(
        locale="ru-RU", timezone_id=TZ, viewport={"width": 390, "height": 844}
    )
    page = await context.new_page()
    problems: list[str] = []
    # Chromium reports the deliberate 422 of a refused form as a console error: not a problem.
    expected = "the server responded with a status of 422"
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and expected not in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    await context.close()


async def test_register_and_get_the_personal_deep_link(page, service_url):
    await page.goto(f"{service_url}/?ref=abc&utm_source=x")
    assert await page.input_value("input[name=tz]") == TZ  # set by the browser
    assert await page.input_value("input[name=ref]") == "abc"
    await page.get_by_label("Ваше имя", exact=True).fill("Анна <b>")
    await page.get_by_label("Телефон", exact=True).fill("8 (916) 123-45-67")
    await page.get_by_label("Я согласен").check()
    await page.screenshot(path="/tmp/form-filled.png", full_page=True)

    await page.get_by_role("button", name="Зарегистрироваться").click()
    await page.wait_for_url("**/thanks**")
    button = page.get_by_role("link", name="Открыть бота в Telegram")
    href = await button.get_attribute("href")
    assert href.startswith(f"{service_url}/sandbox?start=")
    await page.screenshot(path="/tmp/thanks.png", full_page=True)

    token = href.split("start=", 1)[1]
    touch = await LeadTouch.get(start_token=token).prefetch_related("lead")
    lead = touch.lead
    assert (lead.name, lead.phone, lead.tz) == ("Анна <b>", "+79161234567", TZ)
    assert (lead.ref, lead.utm, lead.lead_source) == ("abc", {"utm_source": "x"}, "web_form")
    assert page.problems == []  # no script errors, nothing blocked by the CSP

    await button.click()  # the sandbox opens as this visitor (Telegram in production)
    # The bot links the chat to the registration, and the welcome scenario greets her.
    incoming = page.locator(".row.in")
    await expect(incoming.nth(0)).to_contain_text("Готово: этот чат привязан")
    await expect(incoming.nth(1)).to_contain_text("Здравствуйте, Анна <b>! 👋")
    await page.screenshot(path="/tmp/sandbox-opened.png", full_page=True)
    await LeadEntry.get(id=lead.id, chat_id__not_isnull=True)


async def test_a_mistake_is_shown_next_to_the_field(page, service_url):
    await page.goto(f"{service_url}/?lang=en")
    await page.get_by_label("Your name", exact=True).fill("Anna")
    await page.get_by_label("Phone", exact=True).fill("12345")
    await page.get_by_role("button", name="Register").click()
    await page.wait_for_load_state()

    phone_error = page.locator("#e-phone")
    assert await phone_error.text_content() == "This does not look like a phone number."
    assert await page.locator("#e-consent").is_visible()
    assert await page.input_value("#f-phone") == "12345"
    assert await page.input_value("#f-name") == "Anna"
    assert await page.input_value("input[name=tz]") == TZ
    focused = await page.evaluate("document.activeElement.id")
    assert focused == "f-phone"  # the first field with a problem
    await page.screenshot(path="/tmp/form-error.png", full_page=True)
    assert await LeadTouch.all().count() == 0
    assert page.problems == []
