"""`GET /w/<slug>/room/events`: the room's live connection, as Server-Sent Events.

On (re)connect the room gets the webinar's state, what it knows of its viewer, and the
chat: the last messages, or — when the browser reconnects with `Last-Event-ID` — exactly
the messages after that id, plus the deletions it may have missed. Then whatever the
broadcaster (`core/live.py`) queues for it. A message's SSE id is its database id, and
posts are pushed in id order, so "after that id" is exactly what was missed: nothing
twice, nothing lost. The connection joins the broadcaster before reading the database,
so nothing published in between is lost; what both bring is sent once.

From then on the room's writer (`web/room_writers.py`) sends it what is published: it
never waits for a slow viewer but drops one that lags (its browser reconnects by itself
and catches up from the database); the kernel aborts a connection whose data stays
unacknowledged for `SEND_TIMEOUT` (aiohttp-sse sets `TCP_USER_TIMEOUT`); one keep-alive
for all rooms every `PING_SECONDS` finds the viewers who left. An event is encoded once,
however many viewers get it.
"""

from __future__ import annotations

import asyncio
import functools

from aiohttp import web
from aiohttp_sse import sse_response

from core.chat import deleted_ids, history, message_event
from core.live import LiveEvent, LiveRooms
from core.room import room_view
from web import keys
from web.room import me_of, webinar_by_slug
from web.room_session import session_of
from web.room_writers import Connection

PING_SECONDS = 15.0  # keeps proxies from closing an idle stream, and finds gone viewers
SEND_TIMEOUT = 10.0
RETRY_MS = 2000  # how soon a browser reconnects after the stream ends
PING = LiveEvent("ping", {})


def encode(event: LiveEvent) -> bytes:
    """One SSE event. The data is JSON, which has no raw line breaks: one `data:` line.
    A ping is a comment the browser ignores."""
    if event is PING:
        return b": ping\n\n"
    head = f"id: {event.id}\n" if event.id is not None else ""
    return f"{head}event: {event.kind}\ndata: {event.json}\n\n".encode()


# What the broadcaster pushes is encoded once for all viewers (events hash by identity).
frame = functools.lru_cache(maxsize=1024)(encode)


def _last_event_id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 18 else None


async def keep_alive(live: LiveRooms) -> None:
    """Every `PING_SECONDS`, one ping to every open room connection."""
    while True:
        await asyncio.sleep(PING_SECONDS)
        live.publish_all(PING)


async def room_events(request: web.Request) -> web.StreamResponse:
    webinar = await webinar_by_slug(request)
    session = session_of(request, webinar)
    me = await me_of(session) if session is not None else None
    if session is None or me is None:
        raise web.HTTPForbidden()  # EventSource gives up on a 403: no endless retries
    app = request.app
    live, writers = app[keys.LIVE], app[keys.ROOM_WRITERS]
    viewer = live.join(webinar.id, session.who)
    try:
        # aiohttp-sse's own pings are replaced by `keep_alive` (one task, not one each).
        async with sse_response(
            request, ping_interval=24 * 3600, send_timeout=SEND_TIMEOUT
        ) as response:
            after = _last_event_id(response.last_event_id)
            await webinar.refresh_from_db()  # after joining: no change falls in between
            messages = await history(webinar.id, after)
            first = [LiveEvent("state", room_view(webinar).to_json()), LiveEvent("me", me)]
            first += [message_event(m) for m in messages]
            if after is not None and (gone := await deleted_ids(webinar.id, after)):
                first.append(LiveEvent("deleted", {"ids": gone}))
            head = f"retry: {RETRY_MS}\n\n".encode()
            try:
                await response.write(head + b"".join(map(encode, first)))
            except (ConnectionError, RuntimeError):
                return response
            if request.transport is None:
                return response
            sent = max((m.id for m in messages), default=after or 0)
            connection = Connection(viewer, response, request.transport, after=sent)
            try:
                await writers.add(connection)
                await connection.ended  # the room's writer serves it from now on
            finally:
                writers.remove(connection)
    finally:
        live.leave(viewer)
    return response
