"""A per-key rate limiter with bounded memory (GCRA, one float per key)."""

from __future__ import annotations

import math
from collections import OrderedDict

from core.clock import Clock


class RateLimiter:
    """`limit` requests per `period` seconds per key, in bursts of up to `limit`.

    GCRA (the "leaky bucket as a meter"): each key keeps only the time at which its
    bucket will be empty again. Keys are kept in least-recently-seen order; idle ones
    fall off the front, and beyond `max_keys` the least recently seen is forgotten, so a
    flood of distinct addresses cannot grow memory without bound.
    """

    def __init__(self, limit: int, period: float, clock: Clock, *, max_keys: int = 10_000):
        self.limit = limit
        self.period = period
        self._clock = clock
        self._max_keys = max_keys
        self._interval = period / limit if limit else 0.0
        self._empty_at: OrderedDict[str, float] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def __len__(self) -> int:
        return len(self._empty_at)

    def hit(self, key: str) -> int:
        """Count one request; 0 when allowed, else the seconds to wait (Retry-After)."""
        if not self.enabled:
            return 0
        now = self._clock.now()
        empty_at = max(self._empty_at.pop(key, now), now)
        earliest = empty_at + self._interval - self.period  # when one more would fit
        if earliest > now:
            self._empty_at[key] = empty_at
            return max(1, math.ceil(earliest - now))
        self._empty_at[key] = empty_at + self._interval
        self._forget_idle(now)
        return 0

    def _forget_idle(self, now: float) -> None:
        while self._empty_at:
            key, empty_at = next(iter(self._empty_at.items()))
            if empty_at > now and len(self._empty_at) <= self._max_keys:
                return
            del self._empty_at[key]
