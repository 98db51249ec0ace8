"""Nobody takes over someone else's lead by knowing their phone or e-mail (issue #8, 1).

The whole product: the form over real HTTP (CSRF and all), the ingest webhook, and the
bot against the fake Bot API, where people open their links and share contacts as they
would in Telegram. Binding needs proof: the link of the registration that created the
lead, the lead's own account, or Telegram's verified number of this account equal to
the lead's (docs/security.md, "Identity and binding").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

import main
from core.contact import telegram_phone
from models import LeadEntry, LeadTouch, ScenarioRun, User
from sandbox import FakeTelegram, SandboxUser
from tests.bot_support import register, texts, tick

PHONE = "79161234567"  # Anna's number, as Telegram gives it
MALLORY_PHONE = "447911123456"
CONFIRM = "To link this chat to your registration, please confirm your phone number"
CONFIRM_RU = "Чтобы привязать этот чат к вашей регистрации, подтвердите номер телефона"
MISMATCH = "The phone number of your Telegram account is not the one in the registration"
NOT_OWN = "That is not your own contact."
DONE_RU = "✅ Готово"
WELCOME_RU = "Здравствуйте, Анна! 👋"
TILDA = "t" * 24


def keyboard(fake: FakeTelegram, user: SandboxUser) -> Any:
    return fake.world.chat(user.id).keyboard


def asks_for_the_phone(fake: FakeTelegram, user: SandboxUser) -> bool:
    rows = (keyboard(fake, user) or {}).get("keyboard", [])
    return any(button.get("request_contact") for row in rows for button in row)


async def answer(fake: FakeTelegram, user: SandboxUser, sent: dict[str, Any]) -> str:
    (reply,) = await fake.wait_for_messages(user.id, after=sent["message_id"])
    return str(reply["text"])


async def mallory_tries(fake: FakeTelegram, token: str, victim: SandboxUser) -> SandboxUser:
    """Mallory opens the link of her registration with Anna's details, shares her own
    number, then a forwarded contact of Anna's and one from her address book."""
    mallory = fake.create_user("Mallory", language_code="en", phone_number=MALLORY_PHONE)
    assert (await answer(fake, mallory, fake.send_start(mallory.id, token))).startswith(CONFIRM)
    assert asks_for_the_phone(fake, mallory)

    forwarded = fake.send_contact(
        mallory.id, PHONE, "Анна", contact_user_id=victim.id, forwarded_from=victim.id
    )
    assert (await answer(fake, mallory, forwarded)).startswith(NOT_OWN)
    assert asks_for_the_phone(fake, mallory)  # asked again: it was not her own
    card = fake.send_contact(mallory.id, PHONE, "Анна")
    assert (await answer(fake, mallory, card)).startswith(NOT_OWN)

    own = fake.share_contact(mallory.id)
    assert (await answer(fake, mallory, own)).startswith(MISMATCH)
    assert keyboard(fake, mallory) is None  # the contact keyboard is gone once used
    return mallory


async def ingest(rt: main.Runtime, payload: dict[str, str]) -> str:
    """A landing-page builder forwards a submission; the start payload it is given."""
    url, secret = f"{rt.links.base_url}/api/ingest", {"X-Ingest-Secret": TILDA}
    async with aiohttp.ClientSession() as http, http.post(url, json=payload, headers=secret) as r:
        assert r.status in (200, 201), await r.text()
        link = (await r.json())["start_link"]
    return parse_qs(urlsplit(str(link)).query)["start"][0]


def knows_nothing_of_anna(fake: FakeTelegram, mallory: SandboxUser) -> None:
    said = "\n".join(texts(fake, mallory.id))
    assert "Анна" not in said
    assert "Здравствуйте" not in said  # no welcome
    assert "Hello" not in said


async def opens_and_is_welcomed(fake: FakeTelegram, anna: SandboxUser, token: str) -> str:
    """Anna opens her own link: bound at once, welcomed by her name; the welcome."""
    sent = fake.send_start(anna.id, token)
    done, welcome = await fake.wait_for_messages(anna.id, 2, after=sent["message_id"])
    assert done["text"].startswith(DONE_RU)
    assert welcome["text"].startswith(WELCOME_RU)
    return str(welcome["text"])


async def test_a_phone_typed_into_the_form_takes_over_nothing(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    admin = fake.create_user("Ada", language_code="en")
    fake.send_start(admin.id)
    async with product(admin_ids=(admin.id,)) as rt:
        # Anna registers (no e-mail, her browser gave no time zone) and has not opened
        # the bot yet; Mallory registers with Anna's number in another format.
        anna_token = await register(rt, tz="")
        lead = await LeadEntry.get()
        mallory_token = await register(
            rt,
            query={"lang": "en"},
            name="Mallory",
            phone="8 (916) 123 45 67",
            email="mallory@evil.example",
            tz="Asia/Tokyo",
        )
        assert await LeadEntry.all().count() == 1  # still one person to the partner
        anna_user = fake.create_user("Анна", language_code="ru", phone_number=PHONE)
        mallory = await mallory_tries(fake, mallory_token, anna_user)

        knows_nothing_of_anna(fake, mallory)
        lead = await LeadEntry.get(id=lead.id)
        assert (lead.user_id, lead.chat_id) == (None, None)
        assert (lead.name, lead.email, lead.tz, lead.locale) == ("Анна", None, None, "ru")

        # Anna's own link still binds Anna, welcomed by her name.
        welcome = await opens_and_is_welcomed(fake, anna_user, anna_token)
        lead = await LeadEntry.get(id=lead.id)
        assert lead.chat_id == anna_user.id
        assert (lead.email, lead.tz) == (None, None)  # nothing of Mallory's, ever

        # Mallory, once more with her link, still gets nothing; one notice, one welcome.
        again = fake.send_start(mallory.id, mallory_token)
        assert (await answer(fake, mallory, again)).startswith(CONFIRM)
        await tick(rt)
        knows_nothing_of_anna(fake, mallory)
        assert len([t for t in texts(fake, admin.id) if t.startswith("🆕")]) == 1
        assert texts(fake, anna_user.id).count(welcome) == 1
        assert await ScenarioRun.filter(lead_id=lead.id).count() == 1


async def test_an_email_in_another_letter_case_through_the_webhook_takes_over_nothing(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product(ingest_secrets={"tilda": TILDA}) as rt:
        anna_token = await register(rt, email="anna@example.com", tz="")
        # Mallory fills in a builder's landing page with Anna's e-mail and no phone.
        payload = {"source": "tilda", "name": "Mallory", "email": "ANNA@Example.COM"}
        mallory_token = await ingest(rt, payload | {"tz": "Asia/Tokyo"})

        anna = fake.create_user("Анна", language_code="ru", phone_number=PHONE)
        mallory = await mallory_tries(fake, mallory_token, anna)
        knows_nothing_of_anna(fake, mallory)
        lead = await LeadEntry.get()
        assert (lead.user_id, lead.tz, lead.name) == (None, None, "Анна")

        await opens_and_is_welcomed(fake, anna, anna_token)
        assert (await LeadEntry.get()).chat_id == anna.id
        touch = await LeadTouch.get(start_token=mallory_token)
        assert (touch.matched_by, touch.name, touch.tz) == ("email", "Mallory", "Asia/Tokyo")


async def test_a_lead_known_by_email_alone_binds_only_through_its_own_link(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product(ingest_secrets={"tilda": TILDA}) as rt:
        payload = {"source": "tilda", "name": "Анна", "email": "anna@example.com"}
        anna_token = await ingest(rt, payload)
        # An e-mail can't be proven through Telegram, and Mallory's own phone is not the
        # lead's: nothing she can share makes Anna's lead hers.
        mallory_token = await register(
            rt,
            query={"lang": "en"},
            name="Mallory",
            phone="+44 7911 123456",
            email="Anna@Example.com",
        )
        mallory = fake.create_user("Mallory", language_code="en", phone_number=MALLORY_PHONE)
        reply = await answer(fake, mallory, fake.send_start(mallory.id, mallory_token))
        assert reply.startswith("I can't link this chat to that registration")
        assert not asks_for_the_phone(fake, mallory)  # no button to press
        card = fake.send_contact(mallory.id, MALLORY_PHONE, "Mallory", contact_user_id=mallory.id)
        assert (await answer(fake, mallory, card)).startswith("Thank you, but I did not ask")
        knows_nothing_of_anna(fake, mallory)
        lead = await LeadEntry.get()
        assert (lead.user_id, lead.phone) == (None, None)

        anna = fake.create_user("Анна", language_code="ru")
        sent = fake.send_start(anna.id, anna_token)
        assert (await answer(fake, anna, sent)).startswith(DONE_RU)
        assert (await LeadEntry.get()).chat_id == anna.id


async def test_registering_twice_ends_in_one_chat_with_one_contact_share(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    admin = fake.create_user("Ada", language_code="en")
    fake.send_start(admin.id)
    async with product(admin_ids=(admin.id,)) as rt:
        on_phone = await register(rt, tz="")  # her phone's browser
        on_laptop = await register(rt, email="anna@example.com", tz="Asia/Omsk")
        anna = fake.create_user("Анна", language_code="ru", phone_number=PHONE)

        # The laptop's link first: she confirms her number once, with one tap.
        sent = fake.send_start(anna.id, on_laptop)
        assert (await answer(fake, anna, sent)).startswith(CONFIRM_RU)
        shared = fake.share_contact(anna.id)
        done, welcome = await fake.wait_for_messages(anna.id, 2, after=shared["message_id"])
        assert done["text"].startswith(DONE_RU)
        assert welcome["text"].startswith(WELCOME_RU)
        assert keyboard(fake, anna) is None

        # The phone's link later: nothing more to do.
        sent = fake.send_start(anna.id, on_phone)
        assert (await answer(fake, anna, sent)).startswith("Этот чат уже привязан")
        assert keyboard(fake, anna) is None
        await tick(rt)
        lead = await LeadEntry.get()
        assert await LeadEntry.all().count() == 1
        assert lead.chat_id == anna.id
        # Proven now: what the laptop's registration brought fills what the lead lacked.
        assert (lead.email, lead.tz) == ("anna@example.com", "Asia/Omsk")
        assert sum(1 for m in fake.messages(anna.id) if "contact" in m) == 1
        assert texts(fake, anna.id).count(welcome["text"]) == 1
        assert len([t for t in texts(fake, admin.id) if t.startswith("🆕")]) == 1


async def test_the_first_link_binds_at_once_and_the_second_then_asks_nothing(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product() as rt:
        first = await register(rt)
        second = await register(rt)
        anna = fake.create_user("Анна", language_code="ru", phone_number=PHONE)
        await opens_and_is_welcomed(fake, anna, first)
        sent = fake.send_start(anna.id, second)
        assert (await answer(fake, anna, sent)).startswith("Этот чат уже привязан")
        assert not asks_for_the_phone(fake, anna)
        assert not [m for m in fake.messages(anna.id) if "contact" in m]


async def test_whoever_registered_first_with_a_number_does_not_keep_its_owner_out(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product() as rt:
        # Mallory gets in first with Anna's number: the lead is hers for now.
        squatted = await register(rt, name="Mallory")
        mallory = fake.create_user("Mallory", language_code="en", phone_number=MALLORY_PHONE)
        sent = fake.send_start(mallory.id, squatted)
        await fake.wait_for_messages(mallory.id, 2, after=sent["message_id"])

        # Anna registers and proves the number is hers: the lead follows the phone.
        anna_token = await register(rt)
        anna = fake.create_user("Анна", language_code="ru", phone_number=PHONE)
        sent = fake.send_start(anna.id, anna_token)
        assert (await answer(fake, anna, sent)).startswith(CONFIRM_RU)
        shared = fake.share_contact(anna.id)
        assert (await answer(fake, anna, shared)).startswith(DONE_RU)
        lead = await LeadEntry.get()
        owner = await User.get(telegram_id=anna.id)
        assert (lead.user_id, lead.chat_id) == (owner.id, anna.id)
        before = len(fake.bot_messages(mallory.id))
        again = fake.send_start(mallory.id, squatted)
        reply = await answer(fake, mallory, again)
        assert reply.startswith("This link has already been opened from another Telegram account")
        assert len(fake.bot_messages(mallory.id)) == before + 1


async def test_a_contact_nobody_asked_for_binds_nothing(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product() as rt:
        await register(rt)
        anna = fake.create_user("Анна", language_code="en", phone_number=PHONE)
        sent = fake.send_contact(anna.id, PHONE, "Анна", contact_user_id=anna.id)
        reply = await answer(fake, anna, sent)
        assert reply.startswith("Thank you, but I did not ask for a phone number.")
        assert (await LeadEntry.get()).user_id is None


@pytest.mark.parametrize(
    ("given", "e164"),
    [
        ("79161234567", "+79161234567"),  # as Telegram's apps usually send it
        ("+79161234567", "+79161234567"),
        ("447911123456", "+447911123456"),
        ("", None),
        ("+", None),
        ("7916123456789012", None),  # longer than E.164 allows
        ("7916 123 45 67", None),  # Telegram gives digits only
        ("٧٩١٦١٢٣٤٥٦٧", None),  # digits, but not ASCII ones
        ("88000000000", None),  # no country: not an international number
    ],
)
def test_telegram_phone_numbers_compare_as_e164(given: str, e164: str | None) -> None:
    assert telegram_phone(given) == e164
