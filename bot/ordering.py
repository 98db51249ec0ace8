"""One update at a time per chat: answers come in the order the person wrote.

aiogram handles updates as concurrent tasks, so a quick `/start` and a message after it
could be answered in reverse. This outer middleware holds a per-chat lock for the
update's handling. Tasks start in update order and asyncio locks are FIFO, so a chat's
updates are handled in the order Telegram delivered them; different chats still run
side by side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class OneAtATimePerChat(BaseMiddleware):
    def __init__(self) -> None:
        # chat → (its lock, how many updates hold or wait for it); dropped at zero.
        self._chats: dict[int, tuple[asyncio.Lock, list[int]]] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat = data.get("event_chat")
        sender = data.get("event_from_user")
        key = chat.id if chat is not None else (sender.id if sender is not None else None)
        if key is None:
            return await handler(event, data)
        lock, users = self._chats.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                return await handler(event, data)
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._chats[key]
