"""The live broadcaster: pushes what changes in a webinar to the rooms open on it, now.

In memory, one process. Each webinar's room keeps a short log of what was published (the
last `LOG_LIMIT` events) and one shared wake-up; every open connection is a `Viewer` with
a cursor into that log. Publishing appends to the log and wakes the waiting connections
once: it costs the same for five or five thousand viewers, and never waits for any of
them. Each connection then takes what it has not sent yet. A viewer that fell more than
`LOG_LIMIT` events behind (a stalled phone) finds its cursor before the log's start and
is dropped: its connection ends, its browser reconnects and catches up from the database.
Events meant for one person (`to=`) wait in that viewer's own short queue.

Nothing here is durable and nothing needs to be: the state is in the database, a room
gets a fresh snapshot whenever it (re)connects, and what the other processes change
reaches this one through the hub (`handlers/webinars_live.py`), which calls `publish`.
Transport-independent: the web layer turns a `LiveEvent` into Server-Sent Events.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

LOG_LIMIT = 200  # events a viewer may lag behind before it is dropped
PRIVATE_LIMIT = 20  # events for one person waiting for them


@dataclass(frozen=True, eq=False)  # hashed by identity: transports may cache its encoding
class LiveEvent:
    """One thing a room should know: `kind` (state, message, deleted, me, ping), JSON
    data, and for chat messages their id (the reconnect cursor)."""

    kind: str
    data: dict[str, Any]
    id: int | None = None

    @cached_property
    def json(self) -> str:
        """Serialised once, however many viewers get it."""
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))


class _Room:
    """One webinar's published events and the viewers waiting for the next."""

    def __init__(self, limit: int) -> None:
        self.log: deque[LiveEvent] = deque(maxlen=limit)
        self.last = 0  # the number of the newest event in the log
        self.viewers: set[Viewer] = set()
        self.people: Counter[str] = Counter()
        self.closed = False
        self.version = 0  # counts every publish, the private ones too
        self._wake: asyncio.Future[None] | None = None

    def append(self, event: LiveEvent) -> None:
        self.log.append(event)
        self.last += 1
        self.wake()

    def wake(self) -> None:
        self.version += 1
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        self._wake = None

    def changed(self) -> asyncio.Future[None]:
        """Resolved at the next publish (shared by every viewer waiting now)."""
        if self._wake is None or self._wake.done():  # done: cancelled by a leaving waiter
            self._wake = asyncio.get_running_loop().create_future()
        return self._wake


@dataclass(eq=False)
class Viewer:
    """One open room connection of one person (`who`: "lead:<id>" or "user:<id>")."""

    webinar_id: int
    who: str
    room: _Room
    cursor: int = 0  # the number of the last log event this viewer took
    private: deque[LiveEvent] = field(default_factory=lambda: deque(maxlen=PRIVATE_LIMIT))
    dropped: bool = False  # fell behind, or the service stops: the connection ends

    def take(self) -> list[LiveEvent]:
        """The room's events this viewer has not taken yet (sets `dropped` when it fell
        behind). Events for this person alone are in `private`."""
        room = self.room
        if room.closed:
            self.dropped = True
            return []
        first = room.last - len(room.log) + 1  # the number of the oldest event kept
        if self.cursor + 1 < first:
            self.dropped = True
            return []
        if self.cursor == room.last:
            return []
        events = list(itertools.islice(room.log, self.cursor + 1 - first, None))
        self.cursor = room.last
        return events

    def take_private(self) -> list[LiveEvent]:
        events = list(self.private)
        self.private.clear()
        return events

    async def next(self) -> list[LiveEvent] | None:
        """The next events for this viewer, waiting for them; None: end the connection."""
        while True:
            events = self.take()
            if self.dropped:
                return None
            events += self.take_private()
            if events:
                return events
            await _wait(self.room)


async def _wait(room: _Room) -> None:
    try:
        # Not shielded: one future for all the room's waiters is the point.
        await room.changed()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the waiter itself is being cancelled
        # Another waiter's cancellation cancelled the shared future: nothing happened.


class LiveRooms:
    """Who is connected to which webinar's room, and pushing events to them."""

    def __init__(self, *, log_limit: int = LOG_LIMIT) -> None:
        self._log_limit = log_limit
        self._rooms: dict[int, _Room] = {}
        self.dropped = 0  # viewers dropped for falling behind, since start

    def join(self, webinar_id: int, who: str) -> Viewer:
        room = self._rooms.get(webinar_id)
        if room is None:
            room = self._rooms[webinar_id] = _Room(self._log_limit)
        viewer = Viewer(webinar_id, who, room, cursor=room.last)
        room.viewers.add(viewer)
        room.people[who] += 1
        return viewer

    def leave(self, viewer: Viewer) -> None:
        room = self._rooms.get(viewer.webinar_id)
        if room is None or viewer not in room.viewers:
            return
        if viewer.dropped and not room.closed:
            self.dropped += 1
        room.viewers.discard(viewer)
        room.people[viewer.who] -= 1
        if room.people[viewer.who] <= 0:
            del room.people[viewer.who]
        if not room.viewers:
            del self._rooms[viewer.webinar_id]

    def publish(self, webinar_id: int, event: LiveEvent, *, to: str | None = None) -> int:
        """Push `event` to the room's viewers (or only to `to`'s); how many will get it."""
        room = self._rooms.get(webinar_id)
        if room is None:
            return 0
        if to is None:
            room.append(event)
            return len(room.viewers)
        mine = [v for v in room.viewers if v.who == to]
        for viewer in mine:
            viewer.private.append(event)
        if mine:
            room.wake()  # rare: everyone wakes, only they find something
        return len(mine)

    def publish_all(self, event: LiveEvent) -> int:
        """Push `event` to every room (the transport's keep-alive)."""
        return sum(self.publish(webinar_id, event) for webinar_id in list(self._rooms))

    def version(self, webinar_id: int) -> int:
        """Counts the publishes to a room: what `changed` waits to move."""
        room = self._rooms.get(webinar_id)
        return room.version if room else 0

    async def changed(self, webinar_id: int, since: int) -> bool:
        """Wait until the room has had a publish after `version` was `since` (at once if
        it has), or closes; False when the room is empty or closed (a writer serving the
        room then stops)."""
        room = self._rooms.get(webinar_id)
        while room is not None and not room.closed and room.version == since:
            await _wait(room)
        return room is not None and not room.closed

    def connections(self, webinar_id: int) -> int:
        """Open room connections (a person with two tabs counts twice)."""
        room = self._rooms.get(webinar_id)
        return len(room.viewers) if room else 0

    def viewers(self, webinar_id: int) -> int:
        """People in the room now: distinct leads (speakers are not counted)."""
        room = self._rooms.get(webinar_id)
        return sum(1 for who in room.people if who.startswith("lead:")) if room else 0

    def rooms(self) -> Iterator[int]:
        return iter(list(self._rooms))

    def close(self) -> None:
        """The service stops: every connection ends now (the browsers reconnect later)."""
        for room in self._rooms.values():
            room.closed = True
            room.wake()
