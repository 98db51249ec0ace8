"""Group commit: concurrent units of work share one database transaction.

A commit is the expensive part of a small write (SQLite with synchronous=FULL syncs
the WAL to disk; PostgreSQL flushes its WAL), and on SQLite every transaction also holds
the process's only connection. So when many requests each want "begin, a few statements,
commit", it is much cheaper to run the ones that are waiting together: one transaction,
one commit. Each caller still gets its own result only after that commit, so nothing is
answered before it is durable.

There is no timer: while one batch runs, the next one gathers. An idle system runs each
unit alone at once; a busy one makes batches as large as the load.

If any unit of a batch raises, the batch is rolled back and each unit is run again on
its own, so one bad unit fails only its own caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Generic, TypeVar

TX = TypeVar("TX")
T = TypeVar("T")
R = TypeVar("R")

# Does the work of every item of a batch in `tx`; returns one result per item, in order.
Batch = Callable[[TX, list[T]], Awaitable[list[R]]]


class GroupCommit(Generic[TX, T, R]):
    def __init__(
        self,
        transaction: Callable[[], AbstractAsyncContextManager[TX]],
        batch: Batch[TX, T, R],
        *,
        max_batch: int = 256,
    ) -> None:
        self._transaction = transaction
        self._batch = batch
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._leader: asyncio.Task[None] | None = None
        self.batches = 0  # how many transactions it took (tests, benchmarks)

    async def submit(self, item: T) -> R:
        """Do `item` in a transaction shared with other callers; return after the commit."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._leader is None:
            self._leader = asyncio.create_task(self._lead())
        return await future

    async def _lead(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._run(batch)
        except BaseException:
            # Cancelled (shutdown): nobody may wait forever for a commit that won't come.
            for _, future in self._pending:
                future.cancel()
            self._pending.clear()
            raise
        finally:
            self._leader = None

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.batches += 1
        try:
            async with self._transaction() as tx:
                results = await self._batch(tx, [item for item, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                for one in batch:  # find the one that failed; the others commit alone
                    await self._run([one])
            elif not batch[0][1].done():
                batch[0][1].set_exception(exc)
            return
        except BaseException:
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # the caller may have gone away; the work is done anyway
                future.set_result(result)
