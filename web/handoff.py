"""Handing the personal deep-link token from the form's POST to the thank-you page.

The token travels in a signed, HttpOnly cookie scoped to /thanks rather than in the
URL: a URL ends up in browser history, proxy and access logs and Referer headers, and
a token in a query string invites guessing other people's. The cookie is readable only
by this visitor's browser, cannot be forged or altered without SECRET_KEY, and expires;
anyone without it sees no token at all (and no lead id is ever shown).
"""

from __future__ import annotations

import re

from aiohttp import web

from web import keys
from web.signing import sign, unsign

COOKIE = "funnel_thanks"
TTL = 24 * 3600
_PURPOSE = "thanks"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def remember(request: web.Request, response: web.StreamResponse, token: str) -> None:
    app = request.app
    expires = int(app[keys.CLOCK].now()) + TTL
    response.set_cookie(
        COOKIE,
        sign(app[keys.SETTINGS].secret_key, _PURPOSE, f"{token}:{expires}"),
        max_age=TTL,
        path=str(app.router["thanks"].url_for()),
        httponly=True,
        samesite="Lax",
        secure=app[keys.SETTINGS].base_url.startswith("https://"),
    )


def recall(request: web.Request) -> str | None:
    """This visitor's token, or None (no registration here, forged, or expired)."""
    signed = request.cookies.get(COOKIE, "")
    value = unsign(request.app[keys.SETTINGS].secret_key, _PURPOSE, signed) if signed else None
    if value is None:
        return None
    token, _, expires = value.rpartition(":")
    if not _TOKEN.match(token) or not expires.isdigit():
        return None
    return token if int(expires) > request.app[keys.CLOCK].now() else None
