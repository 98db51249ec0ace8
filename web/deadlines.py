"""Deadlines for slow clients: nobody holds a connection (a file descriptor this process
shares with the bot) by sending slowly.

- Idle keep-alive connections, and connections that have not sent a whole request head,
  are closed after `WEB_IDLE_TIMEOUT`: that is aiohttp's own `keepalive_timeout`, which
  since aiohttp 3.14.4 also runs from the moment a connection opens (`runner_options`).
- A request's body must arrive within `WEB_BODY_TIMEOUT` of its head. aiohttp has no such
  deadline (a handler waits for a body as long as the client keeps the connection), so
  `body_deadline` arms a timer for each request whose body is still on its way and closes
  the connection if the body is not in by then. The handler reading it sees the client
  go away (a DEBUG line in `web/errors.py`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from core.settings import Settings

log = logging.getLogger(__name__)

BODY_DEADLINE = web.AppKey("body_deadline", float)
LINGERING_MAX = 10.0  # aiohttp's default; never longer than the body deadline


def runner_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `web.AppRunner` that bound idle and half-sent connections."""
    return {
        "keepalive_timeout": settings.web_idle_timeout_seconds,
        # After an answer that did not need the body (a 401, a 413), aiohttp reads and
        # drops the rest for a while so the client sees the answer: as long, at most.
        "lingering_time": min(LINGERING_MAX, settings.web_body_timeout_seconds),
    }


@web.middleware
async def body_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.content.is_eof():  # no body, or all of it came with the head
        return await handler(request)
    seconds = request.app[BODY_DEADLINE]
    timer = asyncio.get_running_loop().call_later(seconds, _cut_off, request, seconds)
    try:
        return await handler(request)
    finally:
        timer.cancel()


def _cut_off(request: web.Request, seconds: float) -> None:
    transport = request.transport
    if request.content.is_eof() or transport is None or transport.is_closing():
        return
    log.debug(
        "%s %s: body not in after %ss, connection closed", request.method, request.path, seconds
    )
    transport.close()
