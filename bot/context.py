"""Who is writing, in which language: looked up once per update by a middleware.

Handlers receive `user` (our `User`, created as a candidate on first contact), `locale`
and `t` (the translator bound to that locale) by parameter name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser

from bot.replies import Replies
from core.clock import Clock
from core.settings import Settings
from core.texts import Texts
from core.visible import visible_line
from handlers.binding import TelegramPerson, upsert_user
from models import LeadEntry, TelegramChat, User

Translate = Callable[[str], str]


class UserContext(BaseMiddleware):
    def __init__(self, clock: Clock, settings: Settings, texts: Texts, replies: Replies) -> None:
        self._clock = clock
        self._settings = settings
        self._texts = texts
        self._replies = replies

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: TelegramUser | None = data.get("event_from_user")
        chat = data.get("event_chat")
        if sender is None or sender.is_bot:
            return await handler(event, data)
        # Messages from a group carry the group as chat; a user's own chat is their id.
        chat_id = chat.id if chat is not None and chat.type == "private" else sender.id
        person = TelegramPerson(
            telegram_id=sender.id,
            chat_id=chat_id,
            # Telegram lets a name carry bidi overrides and zero-width characters: what
            # partners see of this person is cleaned here, where the name comes in.
            first_name=visible_line(sender.first_name),
            last_name=visible_line(sender.last_name or ""),
            username=visible_line(sender.username or "") or None,
            language_code=sender.language_code,
        )
        user = await upsert_user(self._clock, self._settings, person)
        # Writing to us again means the user unblocked the bot.
        await TelegramChat.filter(chat_id=chat_id, unreachable_at__not_isnull=True).update(
            unreachable_at=None, unreachable_reason=None
        )
        data["user"] = user
        data["locale"] = locale = await locale_of(user, self._texts)
        data["t"] = lambda msgid: self._texts(locale, msgid)
        update = data.get("event_update")
        data["reply"] = self._replies.to(chat_id, update.update_id if update else 0)
        return await handler(event, data)


async def locale_of(user: User, texts: Texts) -> str:
    """The user's choice, else Telegram's language, else their lead's, else the default."""
    lead_locale = None
    if not user.locale and not user.language_code:
        lead = await LeadEntry.filter(user_id=user.id).first()
        lead_locale = lead.locale if lead else None
    return texts.pick(user.locale, user.language_code, lead_locale)
