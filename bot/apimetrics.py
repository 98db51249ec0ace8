"""Every Bot API call, counted by method and outcome; the last success remembered.

An aiogram request middleware on the bot's session sees each call the bot makes — the
sender's messages, polling's getUpdates, setWebhook — so the outbox's sends, 429s and
403s are counted where they happen without the sender knowing. `last_ok` feeds
`/readyz` ("when did the bot last reach Telegram?").
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from core import metrics
from core.clock import Clock


class ApiCallMetrics(BaseRequestMiddleware):
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.last_ok: float | None = None

    def install(self, bot: Bot) -> None:
        bot.session.middleware(self)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        name = type(method).__name__
        try:
            result = await make_request(bot, method)
        except TelegramRetryAfter:
            metrics.BOT_API_CALLS.labels(name, "retry_after").inc()
            raise
        except TelegramForbiddenError:
            metrics.BOT_API_CALLS.labels(name, "forbidden").inc()
            raise
        except BaseException:
            metrics.BOT_API_CALLS.labels(name, "error").inc()
            raise
        metrics.BOT_API_CALLS.labels(name, "ok").inc()
        self.last_ok = self._clock.now()
        metrics.BOT_API_LAST_OK.set(self.last_ok)
        return result
