"""A `Send` step's message: the lead's language, the rendered text and buttons, the outbox.

The one scheduler module that knows the outbox (`delivery/`, the layer below the scheduler).
"""

from __future__ import annotations

import html
from collections.abc import Callable

from tortoise.backends.base.client import BaseDBAsyncClient

from core.settings import Settings
from delivery.outbox import Button, OutgoingMessage, enqueue
from locales import pick
from models import LeadEntry, User
from scheduler.scenario import RunContext, Send

Translate = Callable[[str, str], str]  # (locale, msgid) -> text


class Messages:
    def __init__(self, translate: Translate, settings: Settings) -> None:
        self._translate = translate
        self._settings = settings

    async def queue(self, step: Send, ctx: RunContext) -> None:
        """Queue the step's message in the run's transaction, once (keyed by run and step)."""
        await enqueue(
            ctx.tx.connection,
            ctx.clock,
            key=f"scenario:{ctx.run.id}:{ctx.run.step}",
            message=await self.render(step, ctx),
            priority=step.priority,
            lead_id=ctx.lead.id,
        )

    async def render(self, step: Send, ctx: RunContext) -> OutgoingMessage:
        locale = await self.locale_for(ctx.lead, ctx.tx.connection)
        params = _Missing(
            {"name": html.escape(ctx.lead.name or ""), "public_url": self._settings.base_url}
        )
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
