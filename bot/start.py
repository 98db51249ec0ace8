"""/start: the door into the bot (deep-link binding arrives with issue #3)."""

from __future__ import annotations

import html
from typing import Final

from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message

from bot.fallback import help_text, language
from core.settings import Settings

router: Final[Router] = Router(name=__name__)
GREETING = {"ru": "Здравствуйте, {name}!", "en": "Hello, {name}!"}


@router.message(CommandStart())  # with a deep-link payload or without
async def start(message: Message, settings: Settings) -> None:
    user = message.from_user
    name = html.escape(user.first_name if user else "")  # HTML parse mode: names are text
    greeting = GREETING[language(user, settings)].format(name=name)
    await message.answer(f"{greeting}\n\n{help_text(user, settings)}")
