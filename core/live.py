"""The live broadcaster: pushes what changes in a webinar to the rooms open on it, now.

In memory, one process: every open room connection is a `Viewer` with a bounded queue.
`publish` only appends to the queues and never waits for a slow connection: a viewer
whose queue is full is dropped (its connection ends, the browser reconnects and catches
up from the database), so one stalled phone cannot hold up five thousand others.

Nothing here is durable and nothing needs to be: the state is in the database, a room
gets a fresh snapshot whenever it (re)connects, and what the other processes change
reaches this one through the hub (`handlers/webinars_live.py`), which calls `publish`.
Transport-independent: the web layer turns a `LiveEvent` into Server-Sent Events.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

QUEUE_LIMIT = 200  # events a viewer may lag behind before it is dropped


@dataclass(frozen=True)
class LiveEvent:
    """One thing a room should know: `kind` (state, message, deleted, me), JSON data, and
    for chat messages their id (the reconnect cursor)."""

    kind: str
    data: dict[str, Any]
    id: int | None = None

    @cached_property
    def json(self) -> str:
        """Serialised once, however many viewers get it."""
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))


@dataclass(eq=False)
class Viewer:
    """One open room connection of one person (`who`: "lead:<id>" or "user:<id>")."""

    webinar_id: int
    who: str
    limit: int = QUEUE_LIMIT
    queue: deque[LiveEvent] = field(default_factory=deque)
    # Set when there is something to take, or the viewer was dropped or closed.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False

    def take(self) -> list[LiveEvent]:
        """Everything queued so far (the connection writes it in one go)."""
        events = list(self.queue)
        self.queue.clear()
        self.ready.clear()
        return events

    def offer(self, event: LiveEvent) -> bool:
        if len(self.queue) >= self.limit:
            self.dropped = True
            self.ready.set()
            return False
        self.queue.append(event)
        self.ready.set()
        return True


class LiveRooms:
    """Who is connected to which webinar's room, and pushing events to them."""

    def __init__(self, *, queue_limit: int = QUEUE_LIMIT) -> None:
        self._queue_limit = queue_limit
        self._rooms: dict[int, set[Viewer]] = {}
        self._people: dict[int, Counter[str]] = {}
        self.dropped = 0  # viewers dropped for falling behind, since start

    def join(self, webinar_id: int, who: str) -> Viewer:
        viewer = Viewer(webinar_id, who, self._queue_limit)
        self._rooms.setdefault(webinar_id, set()).add(viewer)
        self._people.setdefault(webinar_id, Counter())[who] += 1
        return viewer

    def leave(self, viewer: Viewer) -> None:
        room = self._rooms.get(viewer.webinar_id)
        if room is None or viewer not in room:
            return
        room.discard(viewer)
        people = self._people[viewer.webinar_id]
        people[viewer.who] -= 1
        if people[viewer.who] <= 0:
            del people[viewer.who]
        if not room:
            del self._rooms[viewer.webinar_id]
            del self._people[viewer.webinar_id]

    def publish(self, webinar_id: int, event: LiveEvent, *, to: str | None = None) -> int:
        """Queue `event` for every viewer of the room (or only `to`'s); how many got it."""
        delivered = 0
        for viewer in list(self._rooms.get(webinar_id, ())):
            if to is not None and viewer.who != to:
                continue
            if viewer.offer(event):
                delivered += 1
            else:
                self.dropped += 1
                self.leave(viewer)
        return delivered

    def connections(self, webinar_id: int) -> int:
        """Open room connections (a person with two tabs counts twice)."""
        return len(self._rooms.get(webinar_id, ()))

    def viewers(self, webinar_id: int) -> int:
        """People in the room now: distinct leads (speakers are not counted)."""
        return sum(1 for who in self._people.get(webinar_id, ()) if who.startswith("lead:"))

    def rooms(self) -> Iterator[int]:
        return iter(list(self._rooms))

    def close(self) -> None:
        """The service stops: every connection ends now (the browsers reconnect later)."""
        for room in list(self._rooms.values()):
            for viewer in list(room):
                viewer.dropped = True
                viewer.ready.set()
                self.leave(viewer)
