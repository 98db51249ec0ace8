"""A `Send` step's message: the lead's language, the rendered text and buttons, the outbox.

The one scheduler module that knows the outbox (`delivery/`, the layer below the scheduler).
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping

from tortoise.backends.base.client import BaseDBAsyncClient

from core.settings import Settings
from delivery.outbox import Button, OutgoingMessage, enqueue
from locales import pick
from models import LeadEntry, User
from scheduler.scenario import RunContext, Send

Translate = Callable[[str, str], str]  # (locale, msgid) -> text
# More `{placeholders}` for a run's messages (the webinar's title, the personal room link),
# given by the layer that knows them; values that go into the text are already escaped.
Params = Callable[[RunContext, str], Awaitable[Mapping[str, str]]]  # (ctx, locale)


async def no_params(ctx: RunContext, locale: str) -> Mapping[str, str]:
    return {}


def message_key(run_id: int, step: int, context: Mapping[str, object]) -> str:
    """The outbox key of a run's step: once per run, step and round (a run begun again)."""
    key = f"scenario:{run_id}:{step}"
    return f"{key}:{context['round']}" if context.get("round") else key


class Messages:
    def __init__(
        self, translate: Translate, settings: Settings, params: Params = no_params
    ) -> None:
        self._translate = translate
        self._settings = settings
        self._params = params

    async def queue(self, step: Send, ctx: RunContext) -> None:
        """Queue the step's message in the run's transaction, once (keyed by run and step)."""
        await enqueue(
            ctx.tx.connection,
            ctx.clock,
            key=message_key(ctx.run.id, ctx.run.step, ctx.run.context or {}),
            message=await self.render(step, ctx),
            priority=step.priority,
            lead_id=ctx.lead.id,
        )

    async def render(self, step: Send, ctx: RunContext) -> OutgoingMessage:
        locale = await self.locale_for(ctx.lead, ctx.tx.connection)
        params = _Missing(
            {"name": html.escape(ctx.lead.name or ""), "public_url": self._settings.base_url}
        )
        params.update(await self._params(ctx, locale))
        buttons = tuple(
            tuple(
                Button(
                    text=self._translate(locale, b.text),
                    url=b.url.format_map(params) if b.url else None,
                    callback=b.callback,
                )
                for b in row
            )
            for row in step.buttons
        )
        assert ctx.lead.chat_id is not None
        text = self._translate(locale, step.text).format_map(params)
        return OutgoingMessage(chat_id=ctx.lead.chat_id, text=text, buttons=buttons)

    async def locale_for(self, lead: LeadEntry, db: BaseDBAsyncClient | None = None) -> str:
        """The user's choice, else Telegram's language, else the lead's, else the default."""
        user = None
        if lead.user_id is not None:
            user = await User.filter(id=lead.user_id).using_db(db).first()
        return pick(
            user.locale if user else None,
            user.language_code if user else None,
            lead.locale,
            default=self._settings.default_locale,
        )


class _Missing(dict[str, str]):
    """`str.format_map` that leaves unknown `{placeholders}` as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
