"""`GET /w/<slug>/room/events`: the room's live connection, as Server-Sent Events.

On (re)connect the room gets the webinar's state, what it knows of its viewer, and the
chat: the last messages, or — when the browser reconnects with `Last-Event-ID` — exactly
the messages after that id, plus the deletions it may have missed. Then whatever the
broadcaster (`core/live.py`) queues for it. A message's SSE id is its database id, and
posts are pushed in id order, so "after that id" is exactly what was missed: nothing
twice, nothing lost. The connection joins the broadcaster before reading the database,
so nothing published in between is lost; what both bring is sent once.

Each connection writes only what is queued for it, and a write that does not finish in
`SEND_TIMEOUT` ends the connection: a stalled viewer never delays the others. The
broadcaster drops a viewer that lags `QUEUE_LIMIT` events behind; its browser reconnects
by itself and catches up from the database.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from core.chat import deleted_ids, history, message_event
from core.live import LiveEvent
from core.room import room_view
from web import keys
from web.room import me_of, webinar_by_slug
from web.room_session import session_of

PING_SECONDS = 15.0  # keeps proxies from closing an idle stream, and finds gone viewers
SEND_TIMEOUT = 10.0
RETRY_MS = 2000  # how soon a browser reconnects after the stream ends


def frame(event: LiveEvent) -> str:
    """One SSE event. The data is JSON, which has no raw line breaks: one `data:` line."""
    head = f"id: {event.id}\n" if event.id is not None else ""
    return f"{head}event: {event.kind}\ndata: {event.json}\n\n"


def _last_event_id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 18 else None


async def _write(request: web.Request, response: EventSourceResponse, text: str) -> bool:
    """Send `text`; False when the viewer is gone or stalled (the stream then ends)."""
    try:
        async with asyncio.timeout(SEND_TIMEOUT):
            await response.write(text.encode())
    except TimeoutError:
        if request.transport is not None:
            request.transport.abort()  # a stalled peer never drains: do not wait for it
        return False
    except ConnectionError:
        return False
    return True


async def room_events(request: web.Request) -> web.StreamResponse:
    webinar = await webinar_by_slug(request)
    session = session_of(request, webinar)
    me = await me_of(session) if session is not None else None
    if session is None or me is None:
        raise web.HTTPForbidden()  # EventSource gives up on a 403: no endless retries
    live = request.app[keys.LIVE]
    viewer = live.join(webinar.id, session.who)
    try:
        async with sse_response(
            request, ping_interval=PING_SECONDS, send_timeout=SEND_TIMEOUT
        ) as response:
            after = _last_event_id(response.last_event_id)
            await webinar.refresh_from_db()  # after joining: no change falls in between
            messages = await history(webinar.id, after)
            first = [LiveEvent("state", room_view(webinar).to_json()), LiveEvent("me", me)]
            first += [message_event(m) for m in messages]
            if after is not None and (gone := await deleted_ids(webinar.id, after)):
                first.append(LiveEvent("deleted", {"ids": gone}))
            cursor = max((m.id for m in messages), default=after or 0)
            text = f"retry: {RETRY_MS}\n\n" + "".join(frame(e) for e in first)
            connected = await _write(request, response, text)
            while connected and response.is_connected():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PING_SECONDS):
                        await viewer.ready.wait()
                if viewer.dropped:
                    break
                fresh = [e for e in viewer.take() if e.id is None or e.id > cursor]
                if fresh:
                    cursor = max([cursor, *(e.id for e in fresh if e.id is not None)])
                    connected = await _write(request, response, "".join(map(frame, fresh)))
    finally:
        live.leave(viewer)
    return response
