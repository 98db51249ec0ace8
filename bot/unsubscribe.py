"""/stop: the lead asks for no more messages; every scenario of theirs is cancelled.

The rule and its event are `core.unsubscribe`; the runs are cancelled by the consumer of
`core_lead_unsubscribed`."""

from __future__ import annotations

from typing import Final

from aiogram.filters import Command
from aiogram.types import Message

from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from core.clock import Clock
from core.hub import SignalHub
from core.unsubscribe import unsubscribe
from locales import N_
from models import User

router: Final[Routes] = Routes(__name__)


@router.message(Command("stop"))
async def stop(
    message: Message, user: User, t: Translate, hub: SignalHub, clock: Clock, reply: Reply
) -> None:
    await unsubscribe(hub, clock, user)
    await reply(t(N_("Done: no more reminders from me. You can write to me any time.")))
