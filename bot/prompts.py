"""Free text the bot asked for: a note for a lead, a broadcast's text, a user search.

A screen that needs text calls `ask(...)`; the user's next plain message (not a command)
goes to the handler registered for that prompt's kind. The prompt is a database row, so
it survives a restart; it expires after `PROMPT_TTL` seconds, and `/cancel` drops it.
A handler re-checks the user's capability: rights may have changed since the question.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiogram import F
from aiogram.filters import Command
from aiogram.types import Message

from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from core.clock import Clock
from locales import N_
from models import BotPrompt, User

router: Final[Routes] = Routes(__name__)

PROMPT_TTL = 30 * 60

# handler(message, user, text, data, workflow data) → None
PromptHandler = Callable[[Message, User, str, dict[str, Any], dict[str, Any]], Awaitable[None]]
HANDLERS: dict[str, PromptHandler] = {}


def on_prompt(kind: str) -> Callable[[PromptHandler], PromptHandler]:
    """Register the handler for the answers to prompts of `kind`."""

    def register(handler: PromptHandler) -> PromptHandler:
        HANDLERS[kind] = handler
        return handler

    return register


async def ask(clock: Clock, user: User, kind: str, **data: Any) -> None:
    """Wait for the user's next plain message as the answer to a `kind` prompt."""
    await BotPrompt.update_or_create(
        user_id=user.id, defaults={"kind": kind, "data": data, "at": clock.now()}
    )


async def take(clock: Clock, user: User) -> BotPrompt | None:
    """The user's open prompt, removed (a stale one is removed and ignored)."""
    prompt = await BotPrompt.get_or_none(user_id=user.id)
    if prompt is None:
        return None
    deleted = await BotPrompt.filter(id=prompt.id).delete()
    if not deleted or clock.now() - prompt.at > PROMPT_TTL:
        return None  # answered concurrently (an update handed out twice), or stale
    return prompt


@router.message(Command("cancel"))
async def cancel(message: Message, user: User, t: Translate, reply: Reply) -> None:
    dropped = await BotPrompt.filter(user_id=user.id).delete()
    await reply(t(N_("Cancelled.")) if dropped else t(N_("Nothing to cancel.")))


async def _has_prompt(message: Message, user: User) -> bool:
    return await BotPrompt.filter(user_id=user.id).exists()


@router.message(F.text, ~F.text.startswith("/"), _has_prompt)
async def answer(
    message: Message, user: User, clock: Clock, t: Translate, reply: Reply, **data: Any
) -> None:
    prompt = await take(clock, user)
    handler = HANDLERS.get(prompt.kind) if prompt else None
    if prompt is None or handler is None:
        await reply(t(N_("That question has expired. Please start again.")))
        return
    data |= {"clock": clock, "t": t, "reply": reply}
    await handler(message, user, (message.text or "").strip(), prompt.data, data)
