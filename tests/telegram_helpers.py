"""Helpers for tests that point a real aiogram `Bot` at the fake Bot API."""

from __future__ import annotations

import struct
import zlib
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


def png(width: int, height: int, rgb: tuple[int, int, int] = (51, 144, 236)) -> bytes:
    """A valid PNG of one colour: a real image for sendPhoto without a binary fixture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width  # filter byte 0, then RGB pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )
