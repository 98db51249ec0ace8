"""/start: the door into the bot (deep-link binding arrives with issue #3)."""

from __future__ import annotations

from typing import Final

from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message

router: Final[Router] = Router(name=__name__)


@router.message(CommandStart())
async def start(message: Message) -> None:
    await message.answer("Здравствуйте! Это бот вебинаров.")
