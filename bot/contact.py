"""A contact the user shares: the answer to "please confirm your phone number".

Telegram puts the sender's own, verified number in a contact sent with the
`request_contact` button (`user_id` is the sender's); the use case decides what it proves.
"""

from __future__ import annotations

import html
from typing import Final

from aiogram import F
from aiogram.types import Message

from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from bot.start import answer_bound, answer_outcome
from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.settings import Settings
from core.texts import Texts
from handlers.binding import SharedContact, prove_contact
from models import User

router: Final[Routes] = Routes(__name__)


@router.message(F.contact)
async def shared_contact(
    message: Message,
    user: User,
    t: Translate,
    hub: SignalHub,
    clock: Clock,
    settings: Settings,
    links: Links,
    texts: Texts,
    reply: Reply,
) -> None:
    assert message.contact is not None  # the filter
    contact = SharedContact(message.contact.phone_number, message.contact.user_id)
    form_url = html.escape(f"{links.base_url}/")
    on_bound = answer_bound(reply, texts, user, form_url)
    result = await prove_contact(hub, clock, settings, user, contact, on_bound)
    await answer_outcome(reply, texts, t, user, result.outcome, form_url)
