"""What becomes of an outbox row after a Bot API call: every outcome has a name and a rule.

The sender (`bot/sender.py`) asks `outcome_of` about whatever a call raised and does what
the answer says; this module only decides "sent? failed for good? again, and when?". Every
exception aiogram can raise has an answer here (a test walks `aiogram.exceptions`), and so
has any other: an unknown error is retried with backoff and then fails with its error
recorded, so no row is ever left `sending` to be sent again after a restart, and no chat
waits behind one message longer than the backoff below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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

MAX_ATTEMPTS = 10  # counted tries of one message; then it fails for good
MAX_DELAY = 300.0  # seconds: the longest wait between two tries
TOKEN_PAUSE = 60.0  # seconds all sending waits after Telegram refused the token
ERROR_LIMIT = 2000  # characters of an error kept on the row
# Telegram's answer to an edit that changes nothing: the message already shows it.
NOT_MODIFIED = "message is not modified"


class Next(StrEnum):
    SENT = "sent"
    FAILED = "failed"  # refused for good, or out of tries
    UNREACHABLE = "unreachable"  # the chat blocked or removed the bot (403)
    RETRY = "retry"
    MIGRATED = "migrated"  # the group became a supergroup: send there instead


@dataclass(frozen=True)
class Outcome:
    next: Next
    error: str = ""
    delay: float = 0.0  # RETRY: due again after this many seconds
    pause: float = 0.0  # hold all sending this many seconds (429, refused token)
    counts: bool = True  # RETRY: whether this try counts towards MAX_ATTEMPTS
    chat_id: int | None = None  # MIGRATED: the new chat id
    message_id: int | None = None  # SENT: the message Telegram made


def backoff(attempts: int) -> float:
    """Seconds before try number `attempts + 1`: 2, 4, 8, … up to MAX_DELAY."""
    return min(MAX_DELAY, 2.0 ** min(attempts, 30))


def describe(exc: BaseException) -> str:
    """The error as recorded on the row: its class and Telegram's (or the library's) words."""
    message = getattr(exc, "message", None) or str(exc) or repr(exc)
    return f"{type(exc).__name__}: {message}"[:ERROR_LIMIT]


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
