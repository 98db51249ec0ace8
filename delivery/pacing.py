"""When the next Bot API request may leave: the sender's pacing, and nothing else.

Pacing, not reaction: requests are spaced so that no window ever holds more than the
configured number (all chats together, one chat, one group), so a well-behaved run sees
no 429 at all. If Telegram still answers 429, `pause` holds every request until its
`retry_after` has passed. Time here is the monotonic `RealTime` (tests may run it faster),
not the injected clock that dates rows.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from core.settings import Settings, parse_rate

# Requests leave evenly spaced, but arrive with network jitter: keep a few percent below
# each limit so that no window on Telegram's side ever sees one send too many.
MARGIN = 1.04


class RealTime:
    """The time base of pacing. Tests may run it faster (both sides of the limit alike)."""

    scale = 1.0  # virtual seconds per real second

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Pacer:
    """Evenly spaced request slots, a one-second window of our own, per-chat cool-downs
    and the pause a 429 (or a refused token) asks for."""

    def __init__(self, settings: Settings, time_base: RealTime | None = None) -> None:
        self.time = time_base or RealTime()
        self.now = self.time.now
        self._global_gap = gap(settings.outbox_global_rate)
        self._chat_gap = gap(settings.outbox_chat_rate)
        self._group_gap = gap(settings.outbox_group_rate)
        # One pass sends about a second's worth, then looks for newer, more urgent rows.
        self.pass_size = max(1, round(1 / self._global_gap))
        # Our own one-second window, kept so that Telegram's can never overflow: a request
        # arrives some time between its start and its answer, so it counts from its start
        # (in flight) until one second after its answer (recent).
        self._window_cap = self.pass_size
        self._recent: deque[float] = deque()
        self._flying = 0
        self._next_slot = 0.0
        self._paused_until = 0.0

    def cool_down(self, chat_id: int) -> float:
        """Seconds before the chat may receive again (groups have a slower limit)."""
        return self._group_gap if chat_id < 0 else self._chat_gap

    def pause(self, seconds: float) -> None:
        """Hold every request for `seconds` from now (a 429's `retry_after`)."""
        self._paused_until = max(self._paused_until, self.now() + seconds)

    def reserve_slot(self) -> float:
        """The time this request may leave: slots are handed out evenly spaced, in the
        order messages were picked (best priority first)."""
        slot = max(self._next_slot, self.now())
        self._next_slot = slot + self._global_gap
        return slot

    async def wait_for_slot(self, slot: float) -> None:
        """Hold until the reserved slot, a 429 pause, and room in the window; then the
        request counts as in flight until `landed`."""
        while True:
            now = self.now()
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            start = max(slot, self._paused_until, now)
            if len(self._recent) + self._flying >= self._window_cap:
                # Room comes when the oldest answer ages out, or a flight lands.
                start = max(start, self._recent[0] + 1.0 if self._recent else now + 0.01)
            if start <= now:
                break
            await self.time.sleep(start - now)
        self._flying += 1

    def landed(self) -> None:
        """The request's answer came (or it failed): it leaves the flight, joins the window."""
        self._flying -= 1
        self._recent.append(self.now())


def gap(rate: str) -> float:
    """Seconds between two requests at `rate` ("30/s"), with the safety margin."""
    count, per = parse_rate(rate)
    return per / count * MARGIN
