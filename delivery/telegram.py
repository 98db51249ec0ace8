"""The transport: the one part of delivery that speaks Telegram (through aiogram).

It turns a stored row into an aiogram method object, makes the call, and turns whatever
came back into an `Outcome` (`delivery/outcomes.py`). Every exception aiogram can raise has
an answer in `outcome_of` (a test walks `aiogram.exceptions`), and so has any other.
Queueing (`outbox`), pacing and the bookkeeping of rows know nothing of aiogram.
"""

from __future__ import annotations

import base64
from typing import Any

from aiogram import Bot
from aiogram import methods as tg_methods
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile

from delivery.outbox import FILE_KEY
from delivery.outcomes import ERROR_LIMIT, MAX_ATTEMPTS, Next, Outcome, backoff, describe

TOKEN_PAUSE = 60.0  # seconds all sending waits after Telegram refused the token
# Telegram's answer to an edit that changes nothing: the message already shows it.
NOT_MODIFIED = "message is not modified"

Request = tg_methods.TelegramMethod[Any]


class TelegramTransport:
    """Bot API calls for stored rows, through one aiogram `Bot`."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    def request(self, method: str, chat_id: int, payload: dict[str, Any]) -> Request:
        """The aiogram method object for a stored row (`sendMessage` → `SendMessage`);
        raises when the payload is one no request can carry."""
        cls = getattr(tg_methods, method[0].upper() + method[1:])
        params = {"chat_id": chat_id, **payload}
        upload = params.pop(FILE_KEY, None)
        if upload is not None:  # a file we made: uploaded as multipart form data
            data = base64.b64decode(upload["b64"])
            params[upload["field"]] = BufferedInputFile(data, filename=upload["filename"])
        return cls.model_validate(params)  # type: ignore[no-any-return]

    async def send(self, request: Request, attempts: int) -> Outcome:
        """Make the call; whatever happens is an `Outcome` (`attempts` counts this try)."""
        try:
            result = await self._bot(request)
        except Exception as exc:
            return outcome_of(exc, attempts)
        return Outcome(Next.SENT, message_id=getattr(result, "message_id", None))


def outcome_of(exc: Exception, attempts: int) -> Outcome:
    """What to do after a call raised `exc`; `attempts` counts the tries so far, this one
    included."""
    error = describe(exc)
    if isinstance(exc, TelegramRetryAfter):  # flood control: everyone waits, nobody is blamed
        return Outcome(Next.RETRY, error, pause=float(exc.retry_after), counts=False)
    if isinstance(exc, TelegramMigrateToChat):
        return Outcome(Next.MIGRATED, error, chat_id=exc.migrate_to_chat_id)
    if isinstance(exc, TelegramForbiddenError):
        return Outcome(Next.UNREACHABLE, exc.message[:ERROR_LIMIT])
    if isinstance(exc, TelegramUnauthorizedError):  # our token, not this message: wait for it
        return Outcome(Next.RETRY, error, pause=TOKEN_PAUSE, counts=False)
    if isinstance(exc, TelegramBadRequest) and NOT_MODIFIED in exc.message:
        return Outcome(Next.SENT, error)
    # Refused for good: a malformed request, a chat or method that does not exist, a file
    # too large (aiogram files that one under network errors), a conflict that a resend
    # cannot settle. Sending it again would be refused again.
    if isinstance(
        exc, TelegramBadRequest | TelegramNotFound | TelegramEntityTooLarge | TelegramConflictError
    ):
        return Outcome(Next.FAILED, error)
    # Everything else may pass next time: a network error, Telegram's 5xx, an answer we
    # could not read, a status code nobody expected, or an error of our own.
    if attempts >= MAX_ATTEMPTS:
        return Outcome(Next.FAILED, error)
    return Outcome(Next.RETRY, error, delay=backoff(attempts))
