"""What the bot says to what it does not handle otherwise: /help, stray text, stale buttons.

Include this router last: its handlers catch everything the others left.
"""

from __future__ import annotations

import logging
from typing import Final

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import BotCommand, CallbackQuery, Message

from bot.context import Translate
from bot.replies import Reply
from core.settings import Settings
from core.texts import SUPPORTED, Texts
from locales import N_

router: Final[Router] = Router(name=__name__)
log = logging.getLogger(__name__)

COMMANDS = {
    "start": N_("Start"),
    "language": N_("Change the language"),
    "stop": N_("No more reminders"),
    "help": N_("What this bot can do"),
}


def help_text(t: Translate) -> str:
    return t(
        N_(
            "Invitations, reminders and the link to the webinar room arrive here.\n\n"
            "/start — start\n/language — change the language\n"
            "/stop — no more reminders\n/help — this help"
        )
    )


@router.message(Command("help"))
async def show_help(message: Message, t: Translate, reply: Reply) -> None:
    await reply(help_text(t))


@router.message()
async def not_understood(message: Message, t: Translate, reply: Reply) -> None:
    understood = t(N_("I don't understand messages yet, only commands."))
    await reply(f"{understood}\n\n{help_text(t)}")


@router.callback_query()
async def stale_button(query: CallbackQuery, t: Translate) -> None:
    # Unanswered, the button would spin in the user's app until Telegram gives up.
    await query.answer(t(N_("This button no longer works.")))


async def set_commands(bot: Bot, settings: Settings, texts: Texts) -> None:
    """The command menu, per language (the default one without a language code)."""
    try:
        for lang in SUPPORTED:
            menu = [BotCommand(command=c, description=texts(lang, d)) for c, d in COMMANDS.items()]
            await bot.set_my_commands(menu, language_code=lang)
            if lang == settings.default_locale:
                await bot.set_my_commands(menu)
    except TelegramAPIError as exc:  # a menu is a nicety: never stop the bot for it
        log.warning("could not set the bot's commands: %s", exc)
