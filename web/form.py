"""The public registration form (`/`, where partners' `?ref=` links point) and its
thank-you page. Thin views: parse, call Core's `core_ingest_event`, render."""

from __future__ import annotations

import re

from aiohttp import web
from multidict import MultiDict

from core.contact import UTM_KEYS, ContactError, normalise
from core.ingest import core_ingest_event
from web import csrf, keys
from web.bodies import is_checked, raw_contact
from web.i18n import request_lang
from web.pages import render
from web.signing import sign, unsign

SOURCE = "web_form"
HIDDEN = ("ref", *UTM_KEYS)
TYPED = ("name", "phone", "email")

# The deep-link token travels from the POST to the thank-you page in a signed, HttpOnly
# cookie scoped to /thanks rather than in the URL: a URL ends up in history, proxy and
# access logs and Referer headers, and a token in a query string invites guessing other
# people's. The cookie is readable only by this visitor's browser, cannot be forged
# without SECRET_KEY, and expires. Anyone without it sees no token at all.
THANKS_COOKIE = "funnel_thanks"
THANKS_TTL = 24 * 3600
_PURPOSE = "thanks"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def form_page(request: web.Request) -> web.Response:
    """GET /: the empty form, with `ref` and `utm_*` carried over from the link."""
    values = {key: request.query.get(key, "")[:200] for key in HIDDEN}
    return _render_form(request, values, {}, consent=False, status=200)


async def submit(request: web.Request) -> web.StreamResponse:
    """POST /: CSRF and rate limit were checked by `security.form_guard`."""
    form = request[keys.FORM]
    app = request.app
    consent = is_checked(form.get("consent"))
    raw = raw_contact(form, source=SOURCE, consent=consent)
    try:
        contact = normalise(raw, region=app[keys.SETTINGS].phone_region, require_phone=True)
    except ContactError as exc:
        # 422 (not 200): the page is the form again, and scripts and load tests can
        # tell a refused submission from a page view. Nothing has been stored.
        return _render_form(request, _typed(form), exc.errors, consent=consent, status=422)
    result = await core_ingest_event(app[keys.HUB], app[keys.CLOCK], contact)
    location = app.router["thanks"].url_for().with_query(lang=request_lang(request))
    response = web.Response(status=303, headers={"Location": str(location)})
    expires = int(app[keys.CLOCK].now()) + THANKS_TTL
    value = sign(app[keys.SETTINGS].secret_key, _PURPOSE, f"{result.start_token}:{expires}")
    response.set_cookie(
        THANKS_COOKIE,
        value,
        max_age=THANKS_TTL,
        path=str(app.router["thanks"].url_for()),
        httponly=True,
        samesite="Lax",
        secure=app[keys.SETTINGS].base_url.startswith("https://"),
    )
    return response


async def thanks(request: web.Request) -> web.Response:
    """GET /thanks: the button that opens the bot with this visitor's deep link."""
    token = _thanks_token(request)
    if token is None:  # no registration in this browser (or it expired): back to the form
        location = request.app.router["form"].url_for().with_query(lang=request_lang(request))
        raise web.HTTPSeeOther(location=location)
    links = request.app[keys.LINKS]
    return render(
        request, "thanks.html", {"start_link": links.start_link(token), "sandbox": links.sandbox}
    )


def _thanks_token(request: web.Request) -> str | None:
    signed = request.cookies.get(THANKS_COOKIE, "")
    value = unsign(request.app[keys.SETTINGS].secret_key, _PURPOSE, signed) if signed else None
    if value is None:
        return None
    token, _, expires = value.rpartition(":")
    if not _TOKEN.match(token) or not expires.isdigit():
        return None
    return token if int(expires) > request.app[keys.CLOCK].now() else None


def _typed(form: MultiDict[str]) -> dict[str, str]:
    return {key: form.get(key, "") for key in (*TYPED, *HIDDEN, "tz")}


def _render_form(
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    consent: bool,
    status: int,
) -> web.Response:
    token, new_nonce = csrf.form_token(request)
    context = {
        "values": {key: values.get(key, "") for key in (*TYPED, *HIDDEN, "tz")},
        "hidden": HIDDEN,
        "errors": errors,
        "consent": consent,
        "csrf_field": csrf.FIELD,
        "csrf_token": token,
        "action": str(request.app.router["form"].url_for().with_query(lang=request_lang(request))),
    }
    response = render(request, "form.html", context, status=status)
    if new_nonce is not None:
        csrf.set_cookie(request, response, new_nonce)
    return response
