"""One place that turns failures into friendly answers: a page, or JSON under /api/.

No traceback ever reaches a client: unexpected exceptions are logged here and answered
with a plain 500 page. A client that goes away while its request is read (or is cut off
by the body deadline, `web/deadlines.py`) is no error of ours: a DEBUG line, no traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from locales import N_
from web.i18n import gettext
from web.pages import render

log = logging.getLogger(__name__)

# The sandbox's fake Bot API speaks Telegram's own JSON errors; leave them as they are.
UNTOUCHED_PREFIXES = ("/sandbox/botapi/",)
JSON_PREFIXES = ("/api/", "/sandbox/api/")
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")

TITLES = {
    400: N_("Something was wrong with the request"),
    401: N_("Not authorised"),
    403: N_("The form could not be accepted"),
    404: N_("Page not found"),
    405: N_("This address does not accept that kind of request"),
    413: N_("Too much data"),
    415: N_("Unsupported data format"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong on our side"),
}
EXPLANATIONS = {
    404: N_("There is no page at this address. Check the link or start from the main page."),
    413: N_("What was sent is too large for a registration form. Please shorten it."),
    500: N_("We have been notified. Please try again in a minute."),
}
GENERIC = N_("Please go back and try again.")


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if request.path.startswith(UNTOUCHED_PREFIXES):
            return await handler(request)
        return await _friendly(request, handler)
    except ConnectionError:
        if not client_gone(request):
            raise
        log.debug("%s %s: the client went away mid-request", request.method, request.path)
        return web.Response(status=400)  # nobody is there to read it


def client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _friendly(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects are answers, not errors
        if exc.status >= 500:
            log.error("HTTP %s on %s %s: %s", exc.status, request.method, request.path, exc.text)
        return _answer(request, exc.status, exc)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if isinstance(exc, ConnectionError) and client_gone(request):
            raise  # not ours: `error_pages` notes it at DEBUG
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _answer(request, 500, None)


def _answer(request: web.Request, status: int, exc: web.HTTPException | None) -> web.Response:
    explanation = getattr(exc, "explanation", None) or EXPLANATIONS.get(status, GENERIC)
    # An exception may name its own title (the 403 of a room link is no refused form).
    title = getattr(exc, "title", None) or TITLES.get(
        status, TITLES[400] if status < 500 else TITLES[500]
    )
    headers = {h: exc.headers[h] for h in KEPT_HEADERS if exc is not None and h in exc.headers}
    if _wants_json(request):
        body = {"ok": False, "error": explanation}
        return web.json_response(body, status=status, headers=headers, dumps=_dumps)
    try:
        context = {"title": title, "explanation": explanation, "status": status}
        response = render(request, "error.html", context, status=status)
    except Exception:  # the error page itself failed: still no traceback for the client
        log.exception("error page failed for %s %s", request.method, request.path)
        response = web.Response(
            status=status, text=gettext(request, TITLES[500]), content_type="text/plain"
        )
    response.headers.update(headers)
    return response


def _wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    scripted = "application/json" in accept and "text/html" not in accept
    return request.path.startswith(JSON_PREFIXES) or scripted


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
