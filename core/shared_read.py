"""Shared reads: concurrent callers of the same query share one run of it.

The read-side companion of `core/group_commit.py`. Under a burst every form submission
asks the same question ("which webinar does `/` register for now?"); on SQLite each
query is a hand-over to aiosqlite's thread and back, and building it costs more CPU than
answering it. Asked by 64 requests at once, one query can answer them all.

It is not a cache: nothing is remembered between reads, so a webinar scheduled, started
or cancelled (by this process, the command line or another one) is seen by the next
request exactly as before. A caller that arrives while a read runs does not take that
read's answer — the read began before it asked, and may predate a change it should see —
but waits for the next one, which starts after it asked. Like the group commit, there is
no timer: an idle service reads once per request; a busy one once per wave of requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedRead(Generic[T]):
    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._waiting: list[asyncio.Future[T]] = []
        self._leader: asyncio.Task[None] | None = None
        self.reads = 0  # how many times `read` ran (tests, benchmarks)

    async def get(self) -> T:
        """The answer of a read that started after this call."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        if self._leader is None:
            self._leader = asyncio.create_task(self._lead())
        return await future

    async def _lead(self) -> None:
        wave: list[asyncio.Future[T]] = []
        try:
            while self._waiting:
                wave, self._waiting = self._waiting, []
                self.reads += 1
                try:
                    value = await self._read()
                except Exception as exc:
                    for future in wave:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for future in wave:
                        if not future.done():  # its caller may have been cancelled
                            future.set_result(value)
        except BaseException:
            # Cancelled (shutdown): nobody may wait forever for a read that won't come.
            for future in (*wave, *self._waiting):
                future.cancel()
            self._waiting = []
            raise
        finally:
            self._leader = None
