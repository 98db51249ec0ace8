"""Building the aiogram `Bot` and `Dispatcher` (called by `main.py` only)."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode

from bot import (
    admin_users,
    auto_series,
    broadcast,
    contact,
    fallback,
    language,
    lead_card,
    leads,
    my_webinars,
    prompts,
    referral,
    reviews,
    start,
    stats,
    unsubscribe,
    webinar_chat,
    webinar_control,
    webinar_dialog,
)
from bot.context import UserContext
from bot.ordering import OneAtATimePerChat
from bot.replies import Replies
from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.settings import Settings
from core.texts import Texts
from scheduler.engine import ScenarioEngine

# Every feature module, in the order its handlers are tried; fallback last: it takes the
# rest.
FEATURES = (
    start,
    contact,
    language,
    unsubscribe,
    lead_card,
    leads,
    referral,
    reviews,
    admin_users,
    stats,
    broadcast,
    my_webinars,
    webinar_control,
    webinar_chat,
    webinar_dialog,
    auto_series,
    prompts,  # after every command: plain text answering a question
    fallback,
)


def create_bot(token: str, api_base: str = "") -> Bot:
    """The real aiogram `Bot`; `api_base` points it at another Bot API server."""
    api = TelegramAPIServer.from_base(api_base) if api_base else PRODUCTION
    return Bot(
        token,
        session=AiohttpSession(api=api),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_dispatcher(
    settings: Settings,
    clock: Clock,
    hub: SignalHub,
    links: Links,
    texts: Texts,
    engine: ScenarioEngine,
    replies: Replies,
) -> Dispatcher:
    # Handlers receive these by parameter name (aiogram's workflow data).
    dispatcher = Dispatcher(
        settings=settings, clock=clock, hub=hub, links=links, texts=texts, engine=engine
    )
    # aiogram's own update middleware (which finds event_chat) was registered first.
    dispatcher.update.outer_middleware(OneAtATimePerChat())
    context = UserContext(clock, settings, texts, replies)
    dispatcher.message.outer_middleware(context)
    dispatcher.callback_query.outer_middleware(context)
    # Fresh routers for this dispatcher (a process may build several: tests do).
    dispatcher.include_routers(*(module.router.build() for module in FEATURES))
    dispatcher.startup.register(fallback.set_commands)
    return dispatcher
