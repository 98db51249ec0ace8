"""The rooms' writer: every connection gets every event once, whatever was published while
it wrote to the others, and a viewer who stopped reading is dropped, not waited for.

The aiohttp response and the asyncio transport are replaced by small recording stand-ins
(they are the library's, not ours); the broadcaster and the writer are the real ones."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from core.live import LiveEvent, LiveRooms
from web.room_writers import MAX_BUFFERED, Connection, RoomWriters


@dataclass
class Transport:
    buffered: int = 0  # bytes the viewer has not read yet
    aborted: bool = False

    def is_closing(self) -> bool:
        return self.aborted

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def abort(self) -> None:
        self.aborted = True


@dataclass
class Response:
    got: list[int] = field(default_factory=list)
    on_write: Callable[[], None] | None = None

    async def write(self, data: bytes) -> None:
        self.got += [int(n) for n in data.decode().split(";") if n]
        if self.on_write is not None:
            hook, self.on_write = self.on_write, None
            hook()


def encode(event: LiveEvent) -> bytes:
    return f"{event.id};".encode()


async def connect(live: LiveRooms, writers: RoomWriters, who: str, buffered: int = 0):
    response, pipe = Response(), Transport(buffered)
    connection = Connection(live.join(1, who), response, pipe)  # type: ignore[arg-type]
    await writers.add(connection)
    return connection, response, pipe


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_what_is_published_while_the_writer_serves_others_still_reaches_everyone() -> None:
    live = LiveRooms()
    writers = RoomWriters(live, encode)
    first, first_got, _ = await connect(live, writers, "lead:1")
    _, second_got, _ = await connect(live, writers, "lead:2")
    _, third_got, _ = await connect(live, writers, "lead:3")
    # While the writer sends event 1 to someone (whoever is first), event 2 is published.
    pending = [LiveEvent("message", {}, id=2)]

    def publish_once() -> None:
        if pending:
            live.publish(1, pending.pop())

    for response in (first_got, second_got, third_got):
        response.on_write = publish_once
    first.after = None
    live.publish(1, LiveEvent("message", {}, id=1))
    await settle()
    # Nothing else is published: event 2 must not wait for a next one.
    assert [first_got.got, second_got.got, third_got.got] == [[1, 2]] * 3
    live.publish(1, LiveEvent("message", {}, id=3))
    await settle()
    assert [first_got.got, second_got.got, third_got.got] == [[1, 2, 3]] * 3
    await writers.stop()


async def test_a_viewer_who_stopped_reading_is_dropped_and_the_others_go_on() -> None:
    live = LiveRooms()
    writers = RoomWriters(live, encode)
    stalled, _, stalled_pipe = await connect(live, writers, "lead:1", buffered=MAX_BUFFERED)
    _, reading, _ = await connect(live, writers, "lead:2")

    live.publish(1, LiveEvent("message", {}, id=7))
    await settle()

    assert reading.got == [7]
    assert stalled_pipe.aborted
    assert stalled.ended.done()
    live.leave(stalled.viewer)
    writers.remove(stalled)
    assert (live.dropped, live.connections(1)) == (1, 1)
    live.close()  # the service stops: the others end too
    await settle()
    await writers.stop()
