"""The one way a bot screen checks a right: by capability, with one clear refusal.

    if not await allowed(user, Capability.BROADCAST, t, reply):
        return

A refused message gets a reply naming the missing capability; a refused button press
gets an alert, so nothing spins and nothing half-happens.
"""

from __future__ import annotations

from aiogram.types import CallbackQuery

from bot.context import Translate
from bot.replies import Reply
from core.roles import Capability, capabilities_of
from locales import N_
from models import User

REFUSAL = N_("Sorry, this is not available to you (it needs “{capability}”).")


def refusal(t: Translate, *capabilities: Capability) -> str:
    return t(REFUSAL).format(capability=" / ".join(c.value for c in capabilities))


async def allowed(
    user: User, capability: Capability, t: Translate, answer: Reply | CallbackQuery
) -> bool:
    """Whether `user` has `capability`; if not, tell them (reply, or button alert)."""
    return await allowed_any(user, (capability,), t, answer)


async def allowed_any(
    user: User, capabilities: tuple[Capability, ...], t: Translate, answer: Reply | CallbackQuery
) -> bool:
    """Whether `user` has at least one of `capabilities`; if not, tell them."""
    caps = await capabilities_of(user)
    if any(c in caps for c in capabilities):
        return True
    text = refusal(t, *capabilities)
    if isinstance(answer, CallbackQuery):
        await answer.answer(text, show_alert=True)
    else:
        await answer(text)
    return False
