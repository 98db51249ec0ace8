"""The running process's parts, started in order and stopped in reverse: declared once.

`main.start` opens each part and, in the same breath, says how it stops (`on_stop`,
`task`); `Lifecycle.stop` then closes them in the reverse order, always — a part that
fails to stop, or takes longer than its bounded wait, is logged and the next one still
stops — so no hand-kept stop list can drift from the start (the shutdown hang of
`d4c6b05` came from such a list). It is an `AsyncExitStack` with a timeout on each exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

STOP_SECONDS = 5.0  # the longest one part may take to stop before it is cancelled

Stop = Callable[[], Awaitable[Any] | None]


class Lifecycle:
    def __init__(self, stop_seconds: float = STOP_SECONDS) -> None:
        self._stack = contextlib.AsyncExitStack()
        self._seconds = stop_seconds

    def on_stop(self, name: str, stop: Stop) -> None:
        """At `stop()`, call `stop` (a function or a coroutine function) before every part
        declared earlier; wait for it at most the bounded time."""

        async def bounded() -> None:
            try:
                result = stop()
                if inspect.isawaitable(result):
                    await _bounded(asyncio.ensure_future(result), name, self._seconds)
            except Exception:
                log.exception("stop: %s failed", name)

        self._stack.push_async_callback(bounded)

    def task(
        self, name: str, coro: Coroutine[Any, Any, Any], *, cancel: bool = True
    ) -> asyncio.Task[Any]:
        """Run `coro` in the background until stop; then cancel it (or, with `cancel=False`,
        let it end by itself, as polling does once told to stop), within the bounded wait."""
        task = asyncio.create_task(coro, name=name)

        async def finish() -> None:
            if cancel:
                task.cancel()
            await _bounded(task, name, self._seconds)

        self._stack.push_async_callback(finish)
        return task

    async def stop(self) -> None:
        """Stop every part, the last started first. Safe to call twice (the second does
        nothing)."""
        await self._stack.aclose()


async def _bounded(task: asyncio.Future[Any], name: str, seconds: float) -> None:
    """Let `task` end, for `seconds`; then cancel it and give it as long again."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        log.error("stop: %s did not end in %ss; cancelling it", name, seconds)
        task.cancel()
        await asyncio.wait({task}, timeout=seconds)
    if task.done() and not task.cancelled() and task.exception() is not None:
        log.error("stop: %s had failed", name, exc_info=task.exception())
