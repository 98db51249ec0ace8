"""The AUTO webinars' periodic job: plan sessions ahead, and move due ones on.

Stateless over the database: every due fact is a row (`webinar_event.status` and
`starts_at`), so a restart resumes where the last run stopped, and two processes running
it make each transition once (`core.webinars.set_status` is compare-and-set). Planning is
cheap but needless every second: it runs on the first tick and then every `plan_every`.

A `Waker` runs the tick (`main.py`): at the next known transition, to the moment, and at
least every `POLL_SECONDS` — for a just-in-time session a visitor has just created, or a
row another process wrote. An interval job alone would start each session up to a whole
tick late (`docs/performance.md`, "A day of AUTO webinars").
"""

from __future__ import annotations

from core.auto_webinars import (
    PLAN_HORIZON_SECONDS,
    advance_sessions,
    next_transition_at,
    plan_all,
)
from core.clock import Clock
from core.hub import SignalHub

PLAN_EVERY_SECONDS = 600.0
POLL_SECONDS = 1.0  # the longest a transition nobody told this process about waits


class AutoSessions:
    """One tick: plan when due, then apply the due transitions."""

    def __init__(
        self,
        hub: SignalHub,
        clock: Clock,
        *,
        horizon: float = PLAN_HORIZON_SECONDS,
        plan_every: float = PLAN_EVERY_SECONDS,
    ) -> None:
        self._hub = hub
        self._clock = clock
        self._horizon = horizon
        self._plan_every = plan_every
        self._planned_at: float | None = None

    async def tick(self) -> int:
        """The number of transitions applied."""
        now = self._clock.now()
        if self._planned_at is None or now - self._planned_at >= self._plan_every:
            await plan_all(self._hub, self._clock, self._horizon)
            self._planned_at = now
        return await advance_sessions(self._hub, self._clock)

    async def next_due(self) -> float:
        """When the tick should run next: the next transition, the next planning, or
        within `POLL_SECONDS`, whichever is first."""
        now = self._clock.now()
        due = now + POLL_SECONDS
        if self._planned_at is not None:
            due = min(due, self._planned_at + self._plan_every)
        transition = await next_transition_at()
        return due if transition is None else min(due, transition)
