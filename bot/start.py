"""/start: the door into the bot — a personal deep link, a partner's link, or a bare start."""

from __future__ import annotations

import html
import re
from functools import partial
from typing import Final

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from tortoise.backends.base.client import BaseDBAsyncClient

from bot.context import Translate, locale_of
from bot.fallback import help_text
from bot.outbox import OutgoingMessage
from bot.replies import Reply
from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.roles import capabilities_of
from core.settings import Settings
from core.texts import Texts
from handlers.binding import (
    REF_PREFIX,
    Bind,
    TelegramPerson,
    bind_start_token,
    ingest_telegram_referral,
)
from locales import N_
from models import LeadEntry, User

router: Final[Router] = Router(name=__name__)
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
}


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

    async def answer_bound(connection: BaseDBAsyncClient, lead: LeadEntry) -> None:
        # Now that the lead is known, its page language counts (if Telegram gave none).
        bound_t = partial(texts, texts.pick(user.locale, user.language_code, lead.locale))
        text = bound_t(ANSWERS[Bind.BOUND]).format(form_url=form_url)
        await reply.send(OutgoingMessage(reply.chat_id, text), connection)

    outcome = Bind.UNKNOWN
    if PAYLOAD.match(payload):
        result = await bind_start_token(hub, clock, settings, payload, user, answer_bound)
        outcome = result.outcome
    if outcome is Bind.BOUND:
        return  # answered inside the binding (answer_bound)
    if outcome is Bind.ALREADY_YOURS:
        # Now that the lead is known, its page language counts (if Telegram gave none).
        locale = await locale_of(user, texts)
        t = partial(texts, locale)
    await reply(t(ANSWERS[outcome]).format(form_url=form_url))


def _person(user: User) -> TelegramPerson:
    return TelegramPerson(
        telegram_id=user.telegram_id or 0,
        chat_id=user.chat_id or 0,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )
