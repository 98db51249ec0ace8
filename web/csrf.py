"""CSRF protection for the registration form: a signed double-submit token.

The browser gets a random nonce, signed by us, in a `SameSite=Lax` cookie and, in a
hidden field, HMAC(SECRET_KEY, nonce) for another purpose. A POST must bring both, and they
must match. Only nonces we issued count: a cookie planted by a sibling subdomain or a
man-in-the-middle on plain HTTP, without our signature, is ignored and replaced — so the
server never hands out the token of a nonce somebody chose. Lax already keeps the cookie
off cross-site POSTs in current browsers; the token covers older browsers, and the
`Origin` (or `Referer`) header, when present, must name this site. There is no
maintained aio-libs CSRF package, hence these few lines.
"""

from __future__ import annotations

import hmac
import re
import secrets

from aiohttp import web
from yarl import URL

from locales import N_
from web import keys
from web.signing import mac, sign, unsign

COOKIE = "funnel_csrf"
FIELD = "csrf_token"
_PURPOSE = "csrf"  # the hidden field's MAC of the nonce
_COOKIE_PURPOSE = "csrf-cookie"  # the cookie's signature of the same nonce
_NONCE = re.compile(r"^[A-Za-z0-9_-]{32}$")


class CsrfFailed(web.HTTPForbidden):
    explanation = N_(
        "This form was sent from another site, or the page was open for too long. "
        "For your safety nothing was saved. Please open the registration page again "
        "and send the form from there (cookies must be allowed)."
    )


def _nonce(request: web.Request) -> str | None:
    """The nonce of the cookie we issued, or None (no cookie, or not one of ours)."""
    signed = request.cookies.get(COOKIE, "")
    secret = request.app[keys.SETTINGS].secret_key
    nonce = unsign(secret, _COOKIE_PURPOSE, signed) if signed else None
    return nonce if nonce is not None and _NONCE.match(nonce) else None


def form_token(request: web.Request) -> tuple[str, str | None]:
    """(the hidden-field value, a new cookie value to set, or None when ours is there)."""
    secret = request.app[keys.SETTINGS].secret_key
    nonce = _nonce(request)
    cookie = None
    if nonce is None:
        nonce = secrets.token_urlsafe(24)
        cookie = sign(secret, _COOKIE_PURPOSE, nonce)
    return mac(secret, _PURPOSE, nonce), cookie


def set_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        httponly=True,
        samesite="Lax",
        secure=request.app[keys.SETTINGS].base_url.startswith("https://"),
        path="/",
    )


def _host(url: str) -> str | None:
    try:
        host = URL(url).host
    except ValueError:
        return None
    return host.lower() if host else None


def _same_site(request: web.Request, header: str) -> bool:
    """An `Origin`/`Referer` value names this site (the Host we answer, or PUBLIC_URL).

    Host names only: behind a TLS proxy we see http where the browser says https, and
    ports do not separate sites for cookies either.
    """
    if header == "null":  # an opaque origin: a sandboxed frame or a privacy redirect
        return False
    host = _host(header)
    own = {_host(f"http://{request.host}"), _host(request.app[keys.SETTINGS].base_url)}
    return host is not None and host in own


def check(request: web.Request, submitted: str) -> None:
    """Raise `CsrfFailed` unless the request is a same-site post of our own form."""
    origin = request.headers.get("Origin")
    referer = request.headers.get("Referer")
    if origin is not None and not _same_site(request, origin):
        raise CsrfFailed()
    if origin is None and referer and not _same_site(request, referer):
        raise CsrfFailed()
    nonce = _nonce(request)
    if nonce is None or not submitted:
        raise CsrfFailed()
    expected = mac(request.app[keys.SETTINGS].secret_key, _PURPOSE, nonce)
    if not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise CsrfFailed()
