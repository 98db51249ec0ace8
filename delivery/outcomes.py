"""What becomes of an outbox row after a Bot API call: the names of the outcomes and their
limits (tries, backoff, pauses), free of any transport.

The transport (`delivery/telegram.py`) turns whatever a call answered or raised into an
`Outcome`; the ledger (`delivery/ledger.py`) stores it on the row; the sender does what it
says. An unknown error is retried with backoff and then fails with its error recorded, so
no row is ever left `sending` to be sent again after a restart, and no chat waits behind
one message longer than the backoff below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_ATTEMPTS = 10  # counted tries of one message; then it fails for good
MAX_DELAY = 300.0  # seconds: the longest wait between two tries
ERROR_LIMIT = 2000  # characters of an error kept on the row


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
