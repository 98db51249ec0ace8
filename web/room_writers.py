"""One writer per room: sends what the broadcaster publishes to every open connection.

Waking one task per connection for every chat message cost more than the send itself
(5,000 wake-ups and 5,000 sends per message, `docs/performance.md`), and every database
answer the posting request waited for queued behind those wake-ups. So each room has one
task that, at each publish, walks its connections and writes to each what it has not
had yet — the same bytes for everyone at the same place, encoded once — yielding to the
event loop every `YIELD_EVERY` connections so that other requests go on meanwhile.

A send never waits for its viewer. A connection whose socket buffer already holds
`MAX_BUFFERED` bytes the viewer has not read, or that lags the broadcaster's log, is
dropped (its browser reconnects and catches up from the database); the writes that are
made stay below the transport's high-water mark, so they complete at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from core.live import LiveEvent, LiveRooms, Viewer

MAX_BUFFERED = 48 * 1024  # below asyncio's 64 KiB high-water mark: a write never waits
YIELD_EVERY = 200

Encoder = Callable[[LiveEvent], bytes]


@dataclass(eq=False)
class Connection:
    """One viewer's open live connection, served by its room's writer."""

    viewer: Viewer
    response: web.StreamResponse
    transport: asyncio.Transport
    # Message ids up to this one went out with the first batch: not again.
    after: int | None = None
    ended: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def end(self, *, drop: bool = False) -> None:
        if drop:
            self.viewer.dropped = True  # the broadcaster counts it
            self.transport.abort()  # what it has not read is of no use to it any more
        if not self.ended.done():
            self.ended.set_result(None)


class RoomWriters:
    def __init__(self, live: LiveRooms, encode: Encoder) -> None:
        self._live = live
        self._encode = encode
        self._rooms: dict[int, set[Connection]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}

    async def add(self, connection: Connection) -> None:
        """Serve `connection` from now on (and at once with what came meanwhile)."""
        webinar_id = connection.viewer.webinar_id
        self._rooms.setdefault(webinar_id, set()).add(connection)
        if webinar_id not in self._tasks:
            self._tasks[webinar_id] = asyncio.create_task(self._run(webinar_id))
        await self._serve(connection, {})

    def remove(self, connection: Connection) -> None:
        webinar_id = connection.viewer.webinar_id
        room = self._rooms.get(webinar_id, set())
        room.discard(connection)
        if not room:
            self._rooms.pop(webinar_id, None)
            task = self._tasks.pop(webinar_id, None)
            if task is not None:
                task.cancel()

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, webinar_id: int) -> None:
        try:
            served = -1  # the room's version the last round served
            while await self._live.changed(webinar_id, served):
                # What is published during the round is served by the next one.
                served = self._live.version(webinar_id)
                same: dict[tuple[int, int], bytes] = {}
                for n, connection in enumerate(list(self._rooms.get(webinar_id, ()))):
                    if n and n % YIELD_EVERY == 0:
                        await asyncio.sleep(0)  # the other requests' turn
                    if not connection.ended.done():
                        await self._serve(connection, same)
            for connection in list(self._rooms.get(webinar_id, ())):
                self._serve_closed(connection)
        finally:
            if self._tasks.get(webinar_id) is asyncio.current_task():
                del self._tasks[webinar_id]

    def _serve_closed(self, connection: Connection) -> None:
        connection.viewer.take()  # sets `dropped` when the room closed
        connection.end()

    async def _serve(self, connection: Connection, same: dict[tuple[int, int], bytes]) -> None:
        viewer = connection.viewer
        start = viewer.cursor
        events = viewer.take()
        if viewer.dropped:
            connection.end()
            return
        private = viewer.take_private() if viewer.private else []
        if not events and not private:
            return
        if connection.after is None and not private:
            span = (start, viewer.cursor)  # the log grows while the round yields
            data = same.get(span)
            if data is None:  # viewers at the same place get the same bytes
                data = same[span] = b"".join(map(self._encode, events))
        else:
            events = self._not_sent(connection, events) + private
            data = b"".join(map(self._encode, events))
        if not data:
            return
        transport = connection.transport
        if transport.is_closing():
            connection.end()
        elif transport.get_write_buffer_size() + len(data) > MAX_BUFFERED:
            connection.end(drop=True)
        else:
            try:
                await connection.response.write(data)
            except (ConnectionError, RuntimeError):
                connection.end()

    @staticmethod
    def _not_sent(connection: Connection, events: list[LiveEvent]) -> list[LiveEvent]:
        """Without the messages the first batch had (published while it was read)."""
        after = connection.after
        if after is None:
            return events
        fresh = [e for e in events if e.id is None or e.id > after]
        if any(e.id is not None for e in fresh):
            connection.after = None  # past the first batch: every later id is newer
        return fresh
