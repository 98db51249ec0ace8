"""/start: the door into the bot — a personal deep link, a partner's link, or a bare start."""

from __future__ import annotations

import html
import re
from functools import partial
from typing import Final

from aiogram.filters import CommandObject, CommandStart
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from tortoise.backends.base.client import BaseDBAsyncClient

from bot.context import Translate, locale_of
from bot.fallback import help_text
from bot.replies import Reply
from bot.routes import Routes
from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.roles import capabilities_of
from core.settings import Settings
from core.texts import Texts
from delivery.outbox import OutgoingMessage
from handlers.binding import (
    REF_PREFIX,
    Bind,
    OnBound,
    TelegramPerson,
    bind_start_token,
    ingest_telegram_referral,
)
from locales import N_
from models import LeadEntry, User

router: Final[Routes] = Routes(__name__)
PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what Telegram allows in a deep link

ANSWERS = {
    Bind.BOUND: N_("✅ Done: this chat is now linked to your registration."),
    Bind.ALREADY_YOURS: N_(
        "This chat is already linked to your registration: everything will arrive here."
    ),
    Bind.OTHER_ACCOUNT: N_(
        "This link has already been opened from another Telegram account, so messages go "
        "there. If that was not you, register again on the website: {form_url}"
    ),
    Bind.EXPIRED: N_("This link has expired. Please register again on the website: {form_url}"),
    Bind.UNKNOWN: N_(
        "I don't recognise this link. Please use the button on the registration page, "
        "or register on the website: {form_url}"
    ),
    # Nothing of the lead (no name, no partner) until the phone is proven.
    Bind.CONFIRM_PHONE: N_(
        "To link this chat to your registration, please confirm your phone number: "
        "tap the button below."
    ),
    Bind.CANNOT_CONFIRM: N_(
        "I can't link this chat to that registration from here. Please open the bot with "
        "the link you received when you first registered."
    ),
    Bind.PHONE_MISMATCH: N_(
        "The phone number of your Telegram account is not the one in the registration, so "
        "I can't link it to this chat. Please open the bot with the link you received when "
        "you first registered."
    ),
    Bind.NOT_OWN_CONTACT: N_(
        "That is not your own contact. Please tap the button below to share the phone "
        "number of this Telegram account."
    ),
    Bind.NOTHING_TO_CONFIRM: N_(
        "Thank you, but I did not ask for a phone number. To link your registration, use "
        "the button on the registration page: {form_url}"
    ),
}
SHARE_PHONE = N_("📱 Share my phone number")
# A contact-sharing keyboard is gone once it has served, whatever the answer.
REMOVE_KEYBOARD = ReplyKeyboardRemove(remove_keyboard=True).model_dump(exclude_none=True)


def share_phone_keyboard(t: Translate) -> dict[str, object]:
    """A one-tap button that sends Telegram's verified number of this account."""
    button = KeyboardButton(text=t(SHARE_PHONE), request_contact=True)
    markup = ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True, one_time_keyboard=True)
    return markup.model_dump(exclude_none=True)


def answer(t: Translate, outcome: Bind, chat_id: int, form_url: str) -> OutgoingMessage:
    """What the bot says about a binding outcome, with the keyboard that goes with it."""
    asks = outcome in (Bind.CONFIRM_PHONE, Bind.NOT_OWN_CONTACT)
    keyboard = share_phone_keyboard(t) if asks else REMOVE_KEYBOARD
    text = t(ANSWERS[outcome]).format(form_url=form_url)
    return OutgoingMessage(chat_id, text, extra={"reply_markup": keyboard})


@router.message(CommandStart())
async def start(
    message: Message,
    command: CommandObject,
    user: User,
    t: Translate,
    hub: SignalHub,
    clock: Clock,
    settings: Settings,
    links: Links,
    texts: Texts,
    reply: Reply,
) -> None:
    payload = (command.args or "").strip()
    name = html.escape(user.first_name)
    form_url = html.escape(f"{links.base_url}/")
    if not payload:
        hello = t(N_("Hello, {name}! I am the webinar bot.")).format(name=name)
        await reply(f"{hello}\n\n{help_text(t, await capabilities_of(user))}")
        return
    if payload.startswith(REF_PREFIX) and len(payload) > len(REF_PREFIX) and PAYLOAD.match(payload):
        result = await ingest_telegram_referral(
            hub, clock, payload.removeprefix(REF_PREFIX), user, _person(user)
        )
        text = t(N_("Welcome, {name}! Register for the next webinar here: {form_url}"))
        if result.partner_name:
            text = t(
                N_(
                    "Welcome, {name}! You came by the invitation of {partner}. "
                    "Register for the next webinar here: {form_url}"
                )
            )
        ref_url = html.escape(f"{links.base_url}/?ref={payload.removeprefix(REF_PREFIX)}")
        await reply(
            text.format(name=name, partner=html.escape(result.partner_name or ""), form_url=ref_url)
        )
        return

    outcome = Bind.UNKNOWN
    if PAYLOAD.match(payload):
        on_bound = answer_bound(reply, texts, user, form_url)
        outcome = (await bind_start_token(hub, clock, settings, payload, user, on_bound)).outcome
    await answer_outcome(reply, texts, t, user, outcome, form_url)


def answer_bound(reply: Reply, texts: Texts, user: User, form_url: str) -> OnBound:
    """The answer to a binding, queued inside its transaction (ahead of the welcome)."""

    async def on_bound(connection: BaseDBAsyncClient, lead: LeadEntry) -> None:
        # Now that the lead is known, its page language counts (if Telegram gave none).
        bound_t = partial(texts, texts.pick(user.locale, user.language_code, lead.locale))
        await reply.send(answer(bound_t, Bind.BOUND, reply.chat_id, form_url), connection)

    return on_bound


async def answer_outcome(
    reply: Reply, texts: Texts, t: Translate, user: User, outcome: Bind, form_url: str
) -> None:
    """Answer any other outcome of `bind_start_token` or `prove_contact`."""
    if outcome is Bind.BOUND:
        return  # answered inside the binding (answer_bound)
    if outcome is Bind.ALREADY_YOURS:
        # Now that the lead is known, its page language counts (if Telegram gave none).
        t = partial(texts, await locale_of(user, texts))
    await reply.send(answer(t, outcome, reply.chat_id, form_url))


def _person(user: User) -> TelegramPerson:
    return TelegramPerson(
        telegram_id=user.telegram_id or 0,
        chat_id=user.chat_id or 0,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )
