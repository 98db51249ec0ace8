"""Webhook mode: Telegram POSTs each update to our own aiohttp app (TELEGRAM_WEBHOOK_URL).

The route is mounted when the app is built, before the bot exists; `attach` hands it
the dispatcher and bot once `main.start` has made them (until then it answers 503 and
Telegram retries). An update is answered 200 at once and handled in the background by
the same dispatcher — the same routers and middlewares — as in polling mode; aiohttp's
own request timeout and Telegram's retries never race a slow handler.

A request without the right `X-Telegram-Bot-Api-Secret-Token` is refused with 401 and
never parsed; each address is logged once a minute at most, so a scanner cannot flood
the log. The secret is `TELEGRAM_WEBHOOK_SECRET`, or derived from `SECRET_KEY`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from yarl import URL

log = logging.getLogger("bot.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
DEFAULT_PATH = "/telegram/webhook"
REFUSAL_LOG_SECONDS = 60.0
MAX_REMEMBERED_ADDRESSES = 10_000


def webhook_secret(secret_key: str, configured: str = "") -> str:
    """The secret_token for setWebhook: configured, or an HMAC of SECRET_KEY (Telegram
    allows 1-256 characters of A-Z a-z 0-9 _ -; base64url of 32 bytes is 43 of them)."""
    if configured:
        return configured
    digest = hmac.new(secret_key.encode(), b"telegram-webhook-secret", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def webhook_path(url: str) -> str:
    path = URL(url).path
    return path if path not in ("", "/") else DEFAULT_PATH


class WebhookReceiver:
    """The webhook endpoint: checks the secret, answers, hands the update on."""

    def __init__(self, secret: str, *, now: Callable[[], float] = time.monotonic) -> None:
        self._secret = secret.encode()
        self._now = now
        self._dispatcher: Dispatcher | None = None
        self._bot: Bot | None = None
        self._refused_at: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.refused = 0  # requests refused for their secret (tests, metrics)

    def mount(self, app: web.Application, path: str) -> None:
        app.router.add_post(path, self.handle, name="telegram_webhook")

    def attach(self, dispatcher: Dispatcher, bot: Bot) -> None:
        self._dispatcher, self._bot = dispatcher, bot

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self._refuse(request.remote or "?")
            return web.json_response({"ok": False}, status=401)
        if self._dispatcher is None or self._bot is None:
            return web.json_response({"ok": False}, status=503)  # starting: Telegram retries
        try:
            update = Update.model_validate(await request.json(), context={"bot": self._bot})
        except (ValueError, json.JSONDecodeError):
            return web.json_response({"ok": False}, status=400)
        task = asyncio.create_task(self._feed(self._dispatcher, self._bot, update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"ok": True})

    async def _feed(self, dispatcher: Dispatcher, bot: Bot, update: Update) -> None:
        try:
            await dispatcher.feed_update(bot, update)
        except Exception:
            log.exception("webhook: update %s failed", update.update_id)

    def _refuse(self, address: str) -> None:
        self.refused += 1
        now = self._now()
        if now - self._refused_at.get(address, -REFUSAL_LOG_SECONDS) < REFUSAL_LOG_SECONDS:
            return
        if len(self._refused_at) >= MAX_REMEMBERED_ADDRESSES:
            self._refused_at.clear()
        self._refused_at[address] = now
        log.warning(
            "webhook: refused a request from %s without the right secret token",
            address,
            extra={"event": "webhook_refused"},
        )

    async def finish(self, seconds: float = 10.0) -> None:
        """Let the updates being handled finish (stop): answered means handled."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=seconds)


async def use_webhook(bot: Bot, dispatcher: Dispatcher, url: str, secret: str) -> None:
    """Tell Telegram to POST updates to `url`; nothing waiting is dropped."""
    await bot.set_webhook(
        url,
        secret_token=secret,
        allowed_updates=dispatcher.resolve_used_update_types(),
        drop_pending_updates=False,
    )


async def use_polling(bot: Bot) -> None:
    """Leave webhook mode (if we were in it): what Telegram holds waits for getUpdates."""
    await bot.delete_webhook(drop_pending_updates=False)
