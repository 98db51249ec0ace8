"""Tracker v2's reports from the room (the old `wp_ajax` heartbeats), and their flush.

`POST /w/<slug>/room/presence {"token", "tab", "state"}`: the room reports every
`BEAT` seconds while visible, once when hidden, and a beacon when it closes (`state`
visible | hidden | gone; `tab` names the browser tab). `POST .../platform {"token"}`:
the viewer clicked "open in Zoom/Telegram" (that room then counts while hidden).

A report carries the lead's personal room token (`core/room_tokens.py`): a token of
another webinar (or a forged one) is refused, and so is one of another lead than this
browser's room session — 403 with a JSON body saying which. The token is also why no
CSRF token is needed here: another site cannot read it, and sendBeacon sends no header.

Each report is counted in `funnel_presence_reports_total{result}` (`core/metrics.py`):
a rise of the refusals is a broken page or someone forging reports.

Reports cost no database row: the webinar's id is cached by slug, its live time is the
tracker's, and the tracker (`core/presence.py`) only updates memory. A background task
flushes it every `FLUSH_SECONDS` and once more when the service stops; at start it
recovers the visits the last process left open (`core/presence_store.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator

from aiohttp import web

from core import metrics
from core.presence import FLUSH_SECONDS, PresenceTracker, Window
from core.presence_store import flush, platform_opened, recover, window_of
from core.room_tokens import RoomTokens, TokenKind
from core.safejson import JsonError, loads_object
from locales import N_
from models import Webinar
from web import keys
from web.i18n import gettext
from web.room_session import session_in

log = logging.getLogger("web.presence")

SLUG_TTL = 30.0  # seconds a slug's webinar id is reused without asking the database
_TAB = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
STATES = ("visible", "hidden", "gone")
REFUSALS = {
    "token": N_("This report is not for this webinar's room: its link is another one's."),
    "not_yours": N_("This report carries another person's room link."),
    "session": N_("Your room session has ended. Please open the room again from your link."),
    "bad_request": N_("The request was not understood. Please reload the page."),
}
SLUGS = web.AppKey[dict[str, tuple[int, float]]]("presence_slugs")


def _refuse(request: web.Request, error: str, status: int = 403) -> web.Response:
    body = {"ok": False, "error": error, "notice": gettext(request, REFUSALS[error])}
    return web.json_response(body, status=status)


async def _window(request: web.Request) -> Window:
    """The webinar of the room's address, as the tracker sees it (cached)."""
    app = request.app
    slug = request.match_info["slug"].lower()
    tracker = app[keys.PRESENCE]
    cached = app[SLUGS].get(slug)
    if cached is not None and time.monotonic() - cached[1] < SLUG_TTL:
        window = tracker.window(cached[0])
        if window is not None:
            return window
    webinar = await Webinar.get_or_none(slug=slug)
    if webinar is None:
        raise web.HTTPNotFound()
    app[SLUGS][slug] = (webinar.id, time.monotonic())
    window = tracker.window(webinar.id)
    if window is None:
        window = window_of(webinar)
        tracker.set_window(window)
    return window


class Refused(Exception):
    """A report not taken: `error` names why (a key of `REFUSALS`)."""

    def __init__(self, error: str, status: int = 403) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


async def _lead(request: web.Request, window: Window) -> tuple[int, dict[str, object]]:
    """The lead a report is from, and its body; `Refused` when it is not to be taken."""
    try:
        body = loads_object(await request.read(), max_keys=10)
    except JsonError:
        raise Refused("bad_request", 400) from None
    token = body.get("token")
    if not isinstance(token, str):
        raise Refused("bad_request", 400)
    tokens = RoomTokens(request.app[keys.SETTINGS].secret_key)
    lead_id = tokens.read(TokenKind.LEAD, window.webinar_id, token)
    if lead_id is None:
        raise Refused("token")
    session = session_in(request, window.webinar_id)
    if session is None:
        raise Refused("session")
    if session.speaker or session.subject_id != lead_id:
        raise Refused("not_yours")
    return lead_id, body


async def report(request: web.Request) -> web.Response:
    """POST /w/<slug>/room/presence."""
    window = await _window(request)
    try:
        lead_id, body = await _lead(request, window)
    except Refused as refused:
        metrics.PRESENCE_REPORTS.labels(refused.error).inc()
        return _refuse(request, refused.error, refused.status)
    tab, state = body.get("tab"), body.get("state")
    if not isinstance(tab, str) or not _TAB.match(tab) or state not in STATES:
        metrics.PRESENCE_REPORTS.labels("bad_request").inc()
        return _refuse(request, "bad_request", 400)
    if not window.open:  # finished or cancelled: the room stops reporting
        metrics.PRESENCE_REPORTS.labels("closed").inc()
        return web.json_response({"ok": True, "present": False, "stop": True})
    now = request.app[keys.CLOCK].now()
    present = request.app[keys.PRESENCE].report(window, lead_id, tab, str(state), now)
    metrics.PRESENCE_REPORTS.labels("present" if present else "absent").inc()
    return web.json_response({"ok": True, "present": present})


async def platform(request: web.Request) -> web.Response:
    """POST /w/<slug>/room/platform: the click on "open in Zoom/Telegram"."""
    window = await _window(request)
    try:
        lead_id, _ = await _lead(request, window)
    except Refused as refused:
        return _refuse(request, refused.error, refused.status)
    if not (window.open and window.external):
        return web.json_response({"ok": True, "recorded": False})
    app = request.app
    first = await platform_opened(app[keys.PRESENCE], app[keys.CLOCK], window, lead_id)
    return web.json_response({"ok": True, "recorded": first})


async def _flush_now(app: web.Application) -> None:
    try:
        await flush(app[keys.PRESENCE], app[keys.HUB], app[keys.CLOCK])
    except Exception:  # the next flush takes the same again; the loop never dies
        log.exception("presence: flush failed")


async def _flush_loop(app: web.Application) -> None:
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        await _flush_now(app)


async def presence_flusher(app: web.Application) -> AsyncIterator[None]:
    """`cleanup_ctx`: recover open visits, flush periodically, flush once more at stop."""
    await recover(app[keys.PRESENCE], app[keys.CLOCK])
    task = asyncio.create_task(_flush_loop(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await _flush_now(app)


def setup_presence(app: web.Application, presence: PresenceTracker) -> None:
    app[keys.PRESENCE] = presence
    app[SLUGS] = {}
    app.cleanup_ctx.append(presence_flusher)
    room = "/w/{slug}/room"
    app.router.add_post(room + "/presence", report, name="room_presence")
    app.router.add_post(room + "/platform", platform, name="room_platform")
