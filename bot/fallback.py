"""What the bot says to what it does not handle otherwise: /help, stray text, stale buttons.

Include this router last: its handlers catch everything the others left.
(The texts move to `locales/` with the bot's other texts, issue #3.)
"""

from __future__ import annotations

import logging
from typing import Final

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import BotCommand, CallbackQuery, Message, User

from core.settings import Settings

router: Final[Router] = Router(name=__name__)
log = logging.getLogger(__name__)

COMMANDS = {
    "ru": {"start": "Начать", "help": "Что умеет бот"},
    "en": {"start": "Start", "help": "What this bot can do"},
}
HELP = {
    "ru": "Я бот вебинаров: здесь приходят приглашения и напоминания.\n\n"
    "/start — начать\n/help — эта справка",
    "en": "I am the webinar bot: invitations and reminders arrive here.\n\n"
    "/start — start\n/help — this help",
}
NOT_UNDERSTOOD = {
    "ru": "Я пока не понимаю сообщения, только команды.",
    "en": "I don't understand messages yet, only commands.",
}
STALE_BUTTON = {
    "ru": "Эта кнопка больше не действует.",
    "en": "This button no longer works.",
}


def language(user: User | None, settings: Settings) -> str:
    code = (user.language_code or "")[:2] if user else ""
    return code if code in HELP else settings.default_locale


def help_text(user: User | None, settings: Settings) -> str:
    return HELP[language(user, settings)]


@router.message(Command("help"))
async def show_help(message: Message, settings: Settings) -> None:
    await message.answer(help_text(message.from_user, settings))


@router.message()
async def not_understood(message: Message, settings: Settings) -> None:
    lang = language(message.from_user, settings)
    await message.answer(f"{NOT_UNDERSTOOD[lang]}\n\n{HELP[lang]}")


@router.callback_query()
async def stale_button(query: CallbackQuery, settings: Settings) -> None:
    # Unanswered, the button would spin in the user's app until Telegram gives up.
    await query.answer(STALE_BUTTON[language(query.from_user, settings)])


async def set_commands(bot: Bot, settings: Settings) -> None:
    """The command menu, per language (the default one without a language code)."""
    try:
        for lang, commands in COMMANDS.items():
            menu = [BotCommand(command=c, description=d) for c, d in commands.items()]
            await bot.set_my_commands(menu, language_code=lang)
            if lang == settings.default_locale:
                await bot.set_my_commands(menu)
    except TelegramAPIError as exc:  # a menu is a nicety: never stop the bot for it
        log.warning("could not set the bot's commands: %s", exc)
