"""What the bot says to what it does not handle otherwise: /help, stray text, stale buttons.

Include this router last: its handlers catch everything the others left.
"""

from __future__ import annotations

import html
import logging
from typing import Final

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import BotCommand, CallbackQuery, Message

from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from core.roles import Capability, capabilities_of
from core.settings import Settings
from core.texts import Texts
from locales import LOCALES, N_
from models import User

router: Final[Routes] = Routes(__name__)
log = logging.getLogger(__name__)

LEAD_VIEWS = (Capability.LEADS_VIEW_OWN, Capability.LEADS_VIEW_TEAM, Capability.LEADS_VIEW_ALL)

# Everyone's commands: the command menu and the first part of /help.
COMMANDS = {
    "start": N_("Start"),
    "webinars": N_("Your webinars and the way into their rooms"),
    "language": N_("Change the language"),
    "stop": N_("No more reminders"),
    "apply": N_("Apply to become a partner"),
    "help": N_("What this bot can do"),
}

# The commands /help shows to those whose capabilities open them (any one of them).
TOOLS: tuple[tuple[str, str, tuple[Capability, ...]], ...] = (
    ("ref", N_("your referral links and QR code"), (Capability.LEADS_VIEW_OWN,)),
    ("leads", N_("your leads, their cards, notes and statuses"), LEAD_VIEWS),
    ("export", N_("the leads as a CSV file"), LEAD_VIEWS),
    ("stats", N_("funnel counts for a period"), LEAD_VIEWS),
    ("profile", N_("your name and photo shown to leads"), (Capability.LEADS_VIEW_OWN,)),
    ("users", N_("find people, change roles and capabilities"), (Capability.USERS_MANAGE_ROLES,)),
    ("broadcast", N_("a message to a segment"), (Capability.BROADCAST,)),
    (
        "series",
        N_("AUTO webinars: coming sessions, registrations, pause"),
        (Capability.WEBINAR_MANAGE_STATUS,),
    ),
)


def help_text(t: Translate, capabilities: frozenset[Capability] = frozenset()) -> str:
    """What this user can do here: everyone's commands, then those their rights open."""
    lines = [t(N_("Invitations, reminders and the link to the webinar room arrive here.")), ""]
    lines += [f"/{name} — {html.escape(t(d)).lower()}" for name, d in COMMANDS.items()]
    tools = [
        f"/{name} — {html.escape(t(d))}"
        for name, d, needs in TOOLS
        if any(c in capabilities for c in needs)
    ]
    if tools:
        lines += [
            "",
            html.escape(t(N_("Your tools:"))),
            *tools,
            "/cancel — " + t(N_("stop a question")),
        ]
    return "\n".join(lines)


@router.message(Command("help"))
async def show_help(message: Message, user: User, t: Translate, reply: Reply) -> None:
    await reply(help_text(t, await capabilities_of(user)))


@router.message()
async def not_understood(message: Message, user: User, t: Translate, reply: Reply) -> None:
    understood = t(N_("I don't understand messages yet, only commands."))
    await reply(f"{html.escape(understood)}\n\n{help_text(t, await capabilities_of(user))}")


@router.callback_query()
async def stale_button(query: CallbackQuery, t: Translate) -> None:
    # Unanswered, the button would spin in the user's app until Telegram gives up.
    await query.answer(t(N_("This button no longer works.")))


async def set_commands(bot: Bot, settings: Settings, texts: Texts) -> None:
    """The command menu, per language (the default one without a language code)."""
    try:
        for lang in LOCALES:
            menu = [BotCommand(command=c, description=texts(lang, d)) for c, d in COMMANDS.items()]
            await bot.set_my_commands(menu, language_code=lang)
            if lang == settings.default_locale:
                await bot.set_my_commands(menu)
    except TelegramAPIError as exc:  # a menu is a nicety: never stop the bot for it
        log.warning("could not set the bot's commands: %s", exc)
