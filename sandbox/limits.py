"""Telegram's flood limits, enforced by the fake when asked to (off by default).

A send over a limit gets Telegram's answer, 429 with `parameters.retry_after`, and is
counted in `violations`, so a test or a bench can assert that the outbox never hit one.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.protocol import BotApiError

# The methods that put a new message into a chat; edits and answers are not counted.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendMediaGroup",
        "sendSticker",
        "sendLocation",
        "sendContact",
        "sendPoll",
        "sendDice",
        "copyMessage",
        "forwardMessage",
    }
)


@dataclass(frozen=True)
class RateLimits:
    """Sends allowed per sliding window, as Telegram documents them for bots."""

    per_second: int = 30  # to all chats together
    per_chat_per_second: int = 1  # to one chat
    per_group_per_minute: int = 20  # to one group (negative chat id)


@dataclass(frozen=True)
class Violation:
    at: float
    method: str
    chat_id: int
    rule: str  # "global", "chat" or "group"
    retry_after: int


@dataclass
class RateLimiter:
    """Sliding-window counters; `check` raises Telegram's 429 or records the send."""

    limits: RateLimits = field(default_factory=RateLimits)
    clock: Callable[[], float] = time.monotonic
    violations: list[Violation] = field(default_factory=list)
    sent: int = 0
    _all: deque[float] = field(default_factory=deque)
    _chats: defaultdict[int, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def check(self, method: str, chat_id: int | None) -> None:
        if method not in SEND_METHODS or chat_id is None:
            return
        now = self.clock()
        rules = [("global", self._all, self.limits.per_second, 1.0)]
        if chat_id < 0:
            rules.append(("group", self._chats[chat_id], self.limits.per_group_per_minute, 60.0))
        else:
            rules.append(("chat", self._chats[chat_id], self.limits.per_chat_per_second, 1.0))
        for rule, window, limit, span in rules:
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + span - now))
                self.violations.append(Violation(now, method, chat_id, rule, retry_after))
                raise BotApiError(
                    429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
                )
        for _, window, _, _ in rules:
            window.append(now)
        self.sent += 1
