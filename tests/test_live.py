"""The live broadcaster on its own: everyone gets everything in order, a viewer that falls
behind is dropped without holding up the others, events for one person reach only them,
and stopping ends every connection."""

from __future__ import annotations

import asyncio

from core.live import LiveEvent, LiveRooms


def event(n: int) -> LiveEvent:
    return LiveEvent("message", {"n": n}, id=n)


async def test_every_viewer_gets_every_event_in_order_and_a_laggard_is_dropped() -> None:
    live = LiveRooms(log_limit=5)
    keeping_up = live.join(1, "lead:1")
    stalled = live.join(1, "lead:2")  # never takes anything: a phone that stopped reading
    other_room = live.join(2, "lead:3")
    got: list[int] = []
    for n in range(1, 13):
        assert live.publish(1, event(n)) == 2
        if n % 2 == 0:
            batch = await keeping_up.next()
            assert batch is not None
            got += [e.data["n"] for e in batch]
    assert got == list(range(1, 13))
    assert await stalled.next() is None  # 12 behind with 5 kept: dropped
    live.leave(stalled)
    assert (live.dropped, live.connections(1)) == (1, 1)
    assert other_room.take() == []


async def test_a_waiting_viewer_wakes_at_the_next_publish() -> None:
    live = LiveRooms()
    viewers = [live.join(7, f"lead:{n}") for n in range(3)]
    waiting = [asyncio.create_task(v.next()) for v in viewers]
    await asyncio.sleep(0)
    assert not any(t.done() for t in waiting)

    waiting[0].cancel()  # one connection goes away while the others wait on the same wake-up
    await asyncio.sleep(0)
    live.publish(7, event(1))

    for task in waiting[1:]:
        batch = await asyncio.wait_for(task, 1)
        assert batch is not None
        assert [e.id for e in batch] == [1]
    assert waiting[0].cancelled()


async def test_an_event_for_one_person_reaches_only_their_connections() -> None:
    live = LiveRooms()
    anna_tab1, anna_tab2, boris = (
        live.join(1, "lead:1"),
        live.join(1, "lead:1"),
        live.join(1, "lead:2"),
    )
    assert live.publish(1, LiveEvent("me", {"muted": True}), to="lead:1") == 2
    assert [e.kind for e in anna_tab1.take_private()] == ["me"]
    assert [e.kind for e in anna_tab2.take_private()] == ["me"]
    assert boris.take_private() == []
    assert anna_tab1.take() == []  # not in the room's log
    assert (live.viewers(1), live.connections(1)) == (2, 3)
    live.join(1, "user:9")  # a speaker is a connection, not a viewer
    assert (live.viewers(1), live.connections(1)) == (2, 4)


async def test_stopping_ends_every_connection() -> None:
    live = LiveRooms()
    viewer = live.join(1, "lead:1")
    waiting = asyncio.create_task(viewer.next())
    await asyncio.sleep(0)
    live.close()
    assert await asyncio.wait_for(waiting, 1) is None
    live.leave(viewer)
    assert live.dropped == 0  # closed, not fallen behind
