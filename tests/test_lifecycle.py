"""The process's parts stop in reverse of their start, always, each within a bounded wait."""

from __future__ import annotations

import asyncio

from core.lifecycle import Lifecycle


async def test_parts_stop_in_reverse_even_when_one_fails_or_hangs() -> None:
    stopped: list[str] = []
    parts = Lifecycle(stop_seconds=0.05)

    async def hangs() -> None:
        stopped.append("hanging")
        await asyncio.Event().wait()

    def fails() -> None:
        stopped.append("failing")
        raise RuntimeError("boom")

    parts.on_stop("database", lambda: stopped.append("database"))
    parts.on_stop("hanging", hangs)
    parts.on_stop("failing", fails)
    loop = parts.task("loop", asyncio.Event().wait())
    await asyncio.sleep(0)

    await parts.stop()

    assert loop.cancelled()
    assert stopped == ["failing", "hanging", "database"]
    await parts.stop()  # a second stop does nothing
    assert stopped == ["failing", "hanging", "database"]


async def test_a_task_told_to_end_by_itself_is_not_cancelled() -> None:
    parts = Lifecycle(stop_seconds=1.0)
    told = asyncio.Event()

    async def polls() -> None:
        await told.wait()

    task = parts.task("polling", polls(), cancel=False)
    parts.on_stop("polling", told.set)
    await parts.stop()
    assert task.done()
    assert not task.cancelled()
