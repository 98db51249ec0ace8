"""Shared reads: many callers, one query — and never an answer older than the question."""

from __future__ import annotations

import asyncio

import pytest

from core.shared_read import SharedRead


class Source:
    """A value that changes, read slowly (a query in flight while others ask)."""

    def __init__(self) -> None:
        self.value = 0
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    async def read(self) -> int:
        value = self.value  # what the database would answer at the read's start
        self.started.set()
        await self.gate.wait()
        return value


async def test_callers_waiting_together_share_one_read() -> None:
    source = Source()
    source.gate.set()
    shared = SharedRead(source.read)
    answers = await asyncio.gather(*(shared.get() for _ in range(64)))
    assert answers == [0] * 64
    assert shared.reads == 1


async def test_a_caller_arriving_during_a_read_gets_the_next_one() -> None:
    source = Source()
    shared = SharedRead(source.read)
    first = asyncio.create_task(shared.get())
    await source.started.wait()  # the read is in flight, with the old value
    source.value = 1  # e.g. a webinar was scheduled meanwhile
    second = asyncio.create_task(shared.get())
    source.gate.set()
    assert await first == 0
    assert await second == 1  # not the older read's answer
    assert shared.reads == 2


async def test_an_idle_caller_reads_at_once_and_sees_every_change() -> None:
    source = Source()
    source.gate.set()
    shared = SharedRead(source.read)
    assert await shared.get() == 0
    source.value = 7
    assert await shared.get() == 7  # nothing remembered between reads


async def test_a_failed_read_fails_its_wave_only() -> None:
    calls = 0

    async def read() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is locked")
        return calls

    shared = SharedRead(read)
    results = await asyncio.gather(shared.get(), shared.get(), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await shared.get() == 2


async def test_a_cancelled_caller_does_not_stop_the_others() -> None:
    source = Source()
    shared = SharedRead(source.read)
    gone = asyncio.create_task(shared.get())
    kept = asyncio.create_task(shared.get())
    await source.started.wait()
    gone.cancel()
    source.gate.set()
    assert await kept == 0
    with pytest.raises(asyncio.CancelledError):
        await gone
