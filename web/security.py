"""Guards in front of the registration form, and headers on every response."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from locales import N_
from web import csrf, keys
from web.bodies import read_form

# Only our own form is guarded: the webhook authenticates by secret, and routes that
# others mount on this app (the sandbox's fake Bot API) are none of our business.
GUARDED_ROUTES = frozenset({"form_submit", "webinar_submit"})


class TooManyRequests(web.HTTPTooManyRequests):
    explanation = N_("Too many attempts from your address. Please wait a little and try again.")


@web.middleware
async def form_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Rate limit per remote address, then read the form and check its CSRF token."""
    if request.method != "POST" or request.match_info.route.name not in GUARDED_ROUTES:
        return await handler(request)
    # request.remote is the peer: behind a proxy that is the proxy (FORM_RATE_LIMIT=0
    # there, or let the proxy limit); X-Forwarded-For is not trusted, anyone can send it.
    wait = request.app[keys.FORM_LIMITER].hit(request.remote or "")
    if wait:
        raise TooManyRequests(headers={"Retry-After": str(wait)})
    form = await read_form(request)
    csrf.check(request, form.get(csrf.FIELD, ""))
    request[keys.FORM] = form
    return await handler(request)


async def common_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: harmless for every route, so set on all (static files too)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
