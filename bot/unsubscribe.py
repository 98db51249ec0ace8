"""/stop: the lead asks for no more messages; every scenario of theirs is cancelled."""

from __future__ import annotations

from typing import Final

from aiogram.filters import Command
from aiogram.types import Message

from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from locales import N_
from models import LeadEntry, User
from scheduler.engine import ScenarioEngine

router: Final[Routes] = Routes(__name__)


@router.message(Command("stop"))
async def stop(
    message: Message, user: User, t: Translate, engine: ScenarioEngine, reply: Reply
) -> None:
    for lead in await LeadEntry.filter(user_id=user.id).only("id"):
        await engine.cancel(lead.id, reason="the lead sent /stop")
    await reply(t(N_("Done: no more reminders from me. You can write to me any time.")))
