"""`GET /r/<code>`: a partner's short link. Counts the visit, then shows the form.

A visit counts once per visitor, link and `REF_VISIT_WINDOW`: the browser gets a signed
visitor cookie (scoped to /r/, living one window), and the row stores only an HMAC of it
with the code, which means nothing on any other link. A client that drops cookies looks
new every time, so each address also has a budget of counted visits (`REF_VISIT_RATE`);
past it the redirect still works and nothing is stored. Partners' "Visits" then count
people, and a script cannot grow the table faster than that budget.
"""

from __future__ import annotations

import re
import secrets

from aiohttp import web

from core.contact import UTM_KEYS
from core.referrals import CODE, record_visit
from web import keys
from web.signing import mac, sign, unsign

VISITOR_COOKIE = "funnel_visitor"
_PURPOSE = "visitor"
_VISITOR = re.compile(r"^[A-Za-z0-9_-]{22}$")


async def referral_link(request: web.Request) -> web.StreamResponse:
    code = request.match_info["code"]
    form = request.app.router["form"].url_for()
    if not CODE.match(code):
        raise web.HTTPFound(form)  # a mangled link still reaches the form
    query = {k: v for k, v in request.query.items() if k in (*UTM_KEYS, "lang")}
    settings = request.app[keys.SETTINGS]
    visitor, cookie = _visitor(request)
    # request.remote is the peer, never X-Forwarded-For (anyone can send that).
    if not request.app[keys.VISIT_LIMITER].hit(request.remote or ""):
        await record_visit(
            request.app[keys.CLOCK],
            code,
            query,
            request.headers.get("Referer"),
            visitor=mac(settings.secret_key, f"visit:{code}", visitor)[:32],
            window=settings.ref_visit_window_seconds,
        )
    redirect = web.HTTPFound(form.with_query({"ref": code, **query}))
    if cookie is not None:
        redirect.set_cookie(
            VISITOR_COOKIE,
            cookie,
            max_age=int(settings.ref_visit_window_seconds),
            path="/r/",
            httponly=True,
            samesite="Lax",
            secure=settings.base_url.startswith("https://"),
        )
    raise redirect


def _visitor(request: web.Request) -> tuple[str, str | None]:
    """(this browser's visitor id, a new signed cookie to set or None if it has ours)."""
    secret = request.app[keys.SETTINGS].secret_key
    signed = request.cookies.get(VISITOR_COOKIE, "")
    visitor = unsign(secret, _PURPOSE, signed) if signed else None
    if visitor is not None and _VISITOR.match(visitor):
        return visitor, None
    visitor = secrets.token_urlsafe(16)
    return visitor, sign(secret, _PURPOSE, visitor)
