"""The aiogram side: bot construction, routers, middlewares and (later) outbound delivery."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode

from bot import fallback, start
from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.settings import Settings


def create_bot(token: str, api_base: str = "") -> Bot:
    """The real aiogram `Bot`; `api_base` points it at another Bot API server."""
    api = TelegramAPIServer.from_base(api_base) if api_base else PRODUCTION
    return Bot(
        token,
        session=AiohttpSession(api=api),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_dispatcher(settings: Settings, clock: Clock, hub: SignalHub, links: Links) -> Dispatcher:
    # Handlers receive these by parameter name (aiogram's workflow data).
    dispatcher = Dispatcher(settings=settings, clock=clock, hub=hub, links=links)
    dispatcher.include_routers(start.router)
    dispatcher.include_routers(fallback.router)  # last: it answers whatever is left
    dispatcher.startup.register(fallback.set_commands)
    return dispatcher
