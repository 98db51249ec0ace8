"""Building the aiogram `Bot` and `Dispatcher` (called by `main.py` only)."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode

from bot import (
    admin_users,
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
    # fallback last: it takes the rest
    _attach(
        dispatcher,
        start.router,
        contact.router,
        language.router,
        unsubscribe.router,
        lead_card.router,
        leads.router,
        referral.router,
        reviews.router,
        admin_users.router,
        stats.router,
        broadcast.router,
        my_webinars.router,
        prompts.router,  # after every command: plain text answering a question
        fallback.router,
    )
    dispatcher.startup.register(fallback.set_commands)
    return dispatcher


def _attach(dispatcher: Dispatcher, *routers: Router) -> None:
    """Include module-level routers, re-homing any that an earlier dispatcher holds.

    aiogram attaches a router to one parent for life (RuntimeError "Router is already
    attached"), but one process may build several dispatchers: every test that starts
    the service does.
    """
    for router in routers:
        if router.parent_router is not None:
            router.parent_router.sub_routers.remove(router)
            router._parent_router = None
        dispatcher.include_router(router)
