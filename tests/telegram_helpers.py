"""Helpers for tests that point a real aiogram `Bot` at the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from sandbox import FakeTelegram

TOKEN = "4242:fake-telegram-test-token"


@asynccontextmanager
async def fake_bot(fake: FakeTelegram, token: str | None = None) -> AsyncIterator[Bot]:
    """Serve `fake` on a free port and yield an aiogram `Bot` pointed at it over HTTP,
    configured as the product configures its own (HTML parse mode)."""
    async with fake.serve() as base_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
        bot = Bot(
            token or fake.token,
            session=session,
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        try:
            yield bot
        finally:
            await bot.session.close()
