"""Retry policies: after a failure, try again — and when? One small object answers.

The hub's deliveries and the scenario engine's runs keep their attempt count in their own
rows; the policy only turns that count into the next delay, or says to give up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """`delays[n - 1]` seconds after the n-th failed attempt; give up at `len(delays)`."""

    delays: tuple[float, ...]

    @classmethod
    def backoff(cls, *, base: float, cap: float, attempts: int) -> RetryPolicy:
        """Doubling delays from `2 * base`, at most `cap`; `attempts` in all."""
        return cls(tuple(min(cap, base * 2**n) for n in range(1, attempts + 1)))

    def delay_after(self, attempts: int) -> float | None:
        """Seconds until the next attempt after `attempts` failed ones; None: give up."""
        if attempts >= len(self.delays):
            return None
        return self.delays[attempts - 1]
