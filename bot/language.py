"""/language: the user picks the language of everything the bot sends them."""

from __future__ import annotations

from typing import Final

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.replies import Reply
from bot.routes import Routes
from core.texts import Texts
from delivery.callbacks import Language
from delivery.outbox import Button
from locales import LOCALES, N_, NATIVE_NAMES
from models import User

router: Final[Routes] = Routes(__name__)


@router.message(Command("language"))
async def choose(message: Message, locale: str, texts: Texts, reply: Reply) -> None:
    buttons = tuple(
        Button(
            ("✓ " if code == locale else "") + NATIVE_NAMES[code],
            callback=Language(code=code).pack(),
        )
        for code in LOCALES
    )
    await reply(texts(locale, N_("Choose the language:")), buttons=(buttons,))


@router.callback_query(Language.filter())
async def chosen(query: CallbackQuery, callback_data: Language, user: User, texts: Texts) -> None:
    code = callback_data.code
    if code not in LOCALES:
        await query.answer()
        return
    user.locale = code
    await user.save(update_fields=["locale"])
    done = texts(code, N_("Done: I will write to you in English."))
    await query.answer(done)
    if query.message is not None:
        await query.bot.edit_message_text(  # type: ignore[union-attr]
            done, chat_id=query.message.chat.id, message_id=query.message.message_id
        )
