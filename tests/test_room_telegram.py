"""The room opened as a Telegram Mini App: initData validated with the running bot's token
and a fresh auth_date identifies the lead (or the speaker) without a link token; the
sandbox's `web_app` buttons open it with correctly signed data."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from core.clock import FakeClock
from core.hub import SignalHub
from models import EventRecord, Role, WebinarRegistration
from sandbox.api import FAKE
from sandbox.webapp import init_data
from sandbox.world import SandboxUser
from tests.room_support import Visitor, make_lead, make_user, make_webinar, register, room_app
from web import keys

TOKEN = "123456789:AAEfakeTokenForTheMiniAppTests_0123456"
OTHER_BOT = "987654321:AAEanotherBotsTokenNotOurs_99999999999"
TELEGRAM_ID = 700_000_123


@pytest.fixture
async def room(aiohttp_server, settings, clock, hub):
    room = await room_app(aiohttp_server, settings, clock, hub)
    room.app[keys.MINI_APP].bot_token = TOKEN  # as main.start does with the running bot's
    return room


@pytest.fixture
async def visitor(room):
    visitor = Visitor(room.base)
    yield visitor
    await visitor.close()


def signed(token: str = TOKEN, *, at: float, telegram_id: int = TELEGRAM_ID) -> str:
    return init_data(token, SandboxUser(telegram_id, "Анна", username="anna_p"), int(at), "AAq1")


async def sign_in(visitor: Visitor, slug: str, data: str, *, csrf: bool = True) -> Any:
    gate = await visitor.get(f"/w/{slug}/room")
    assert gate.status == 403  # no session yet: the way in, whose script signs in
    html = await gate.text()
    assert "room.js" in html
    from tests.room_support import room_data

    visitor.data = room_data(html)
    return await visitor.post(
        f"/w/{slug}/room/telegram", {"init_data": data}, csrf=None if csrf else ""
    )


async def bound_lead(clock: FakeClock, hub: SignalHub, webinar, *, registered: bool = True):
    user = await make_user(clock, TELEGRAM_ID, Role.CANDIDATE, first_name="Анна")
    lead = await make_lead(clock, "Анна", user_id=user.id)
    if registered:
        await register(hub, clock, webinar, lead)
    return lead


async def test_valid_init_data_lets_the_bound_lead_in_and_records_the_entry(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    lead = await bound_lead(clock, hub, webinar)

    answer = await sign_in(visitor, webinar.slug, signed(at=clock.now() - 30))

    assert answer.status == 200
    assert await answer.json() == {"ok": True, "room": f"/w/{webinar.slug}/room"}
    page = await visitor.get(f"/w/{webinar.slug}/room")
    assert page.status == 200
    [entered] = await EventRecord.filter(name="client_webinar_entered")
    assert (entered.payload["lead_id"], entered.payload["via"]) == (lead.id, "mini_app")
    registration = await WebinarRegistration.get(webinar_id=webinar.id, lead_id=lead.id)
    assert registration.entered_at == clock.now()


@pytest.mark.parametrize("case", ["forged", "other bot", "stale", "future", "garbage", "no csrf"])
async def test_forged_stale_or_another_bots_init_data_is_refused(
    room, visitor, clock: FakeClock, hub: SignalHub, case: str
) -> None:
    webinar = await make_webinar(hub, clock)
    await bound_lead(clock, hub, webinar)
    good = signed(at=clock.now())
    data = {
        # Someone else's Telegram id with the original signature.
        "forged": good.replace(str(TELEGRAM_ID), str(TELEGRAM_ID + 1)),
        "other bot": signed(OTHER_BOT, at=clock.now()),
        "stale": signed(at=clock.now() - 3601),
        "future": signed(at=clock.now() + 600),
        "garbage": "hash=abc&user=%7B%7D",
        "no csrf": good,
    }[case]

    answer = await sign_in(visitor, webinar.slug, data, csrf=case != "no csrf")

    assert answer.status == 403
    if case != "no csrf":
        assert (await answer.json())["notice"].startswith("Telegram не подтвердил, кто вы")
    assert "funnel_room" not in answer.cookies
    assert (await visitor.get(f"/w/{webinar.slug}/room")).status == 403
    assert await EventRecord.filter(name="client_webinar_entered").count() == 0


async def test_a_telegram_user_the_funnel_does_not_know_is_refused(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    answer = await sign_in(visitor, webinar.slug, signed(at=clock.now()))
    assert answer.status == 403
    assert "Мы пока не знаем ваш аккаунт Telegram" in (await answer.json())["notice"]


async def test_a_bound_lead_not_yet_registered_is_registered_on_entry(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    lead = await bound_lead(clock, hub, webinar, registered=False)
    assert (await sign_in(visitor, webinar.slug, signed(at=clock.now()))).status == 200
    registration = await WebinarRegistration.get(webinar_id=webinar.id, lead_id=lead.id)
    assert registration.source == "room_mini_app"


async def test_a_speaker_opening_the_mini_app_enters_as_a_moderator(
    room, visitor, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    await make_user(clock, TELEGRAM_ID, Role.SPEAKER, first_name="Мария")
    assert (await sign_in(visitor, webinar.slug, signed(at=clock.now()))).status == 200
    page = await visitor.get(f"/w/{webinar.slug}/room")
    assert "Вы в комнате как спикер" in await page.text()
    assert await EventRecord.filter(name="client_webinar_entered").count() == 0


async def test_the_sandbox_opens_a_web_app_button_with_data_the_product_accepts(
    service: Any, service_url: str, clock: FakeClock
) -> None:
    hub: SignalHub = service.hub
    fake = service.app[FAKE]
    webinar = await make_webinar(hub, clock)
    person = fake.create_user("Анна", username="anna_p")
    person.started = True  # she has the bot open (the bot's own /start is not the point)
    user = await make_user(clock, person.id, Role.CANDIDATE, first_name="Анна")
    await make_lead(clock, "Анна", user_id=user.id)
    url = service.links.room_url(webinar)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Войти", web_app=WebAppInfo(url=url))]]
    )
    sent = await service.bot.send_message(person.id, "Вебинар начался", reply_markup=markup)

    visitor = Visitor(service_url)
    try:
        opened = await visitor.session.post(
            f"{service_url}/sandbox/api/users/{person.id}/webapp",
            json={"message_id": sent.message_id, "url": url},
            headers={"X-Sandbox": "1"},
        )
        assert opened.status == 200
        launch = (await opened.json())["url"]
        assert launch.startswith(url + "#tgWebAppData=")
        data = parse_qs(urlsplit(launch).fragment)["tgWebAppData"][0]
        answer = await sign_in(visitor, webinar.slug, data)
        assert answer.status == 200
        assert (await visitor.get(f"/w/{webinar.slug}/room")).status == 200

        # Only a button the bot really sent opens a Mini App with the user's data.
        other = await visitor.session.post(
            f"{service_url}/sandbox/api/users/{person.id}/webapp",
            json={"message_id": sent.message_id, "url": "https://evil.example/"},
            headers={"X-Sandbox": "1"},
        )
        assert other.status == 400
    finally:
        await visitor.close()
