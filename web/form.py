"""The public registration form (`/`, where partners' `?ref=` links point) and its
thank-you page. Thin views: parse, call Core's `core_ingest_event`, render."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict

from core.contact import UTM_KEYS, ContactError, normalise
from core.ingest import core_ingest_event
from web import csrf, handoff, keys
from web.bodies import is_checked, raw_contact
from web.i18n import request_lang
from web.pages import render

SOURCE = "web_form"
HIDDEN = ("ref", *UTM_KEYS)
TYPED = ("name", "phone", "email")


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
    raw.locale = request_lang(request)  # the bot writes in the language they registered in
    try:
        contact = normalise(raw, region=app[keys.SETTINGS].phone_region, require_phone=True)
    except ContactError as exc:
        # 422 (not 200): the page is the form again, and scripts and load tests can
        # tell a refused submission from a page view. Nothing has been stored.
        return _render_form(request, _typed(form), exc.errors, consent=consent, status=422)
    result = await core_ingest_event(app[keys.HUB], app[keys.CLOCK], contact)
    location = app.router["thanks"].url_for().with_query(lang=request_lang(request))
    response = web.Response(status=303, headers={"Location": str(location)})
    handoff.remember(request, response, result.start_token)
    return response


async def thanks(request: web.Request) -> web.Response:
    """GET /thanks: the button that opens the bot with this visitor's deep link."""
    token = handoff.recall(request)
    if token is None:  # no registration in this browser (or it expired): back to the form
        location = request.app.router["form"].url_for().with_query(lang=request_lang(request))
        raise web.HTTPSeeOther(location=location)
    links = request.app[keys.LINKS]
    return render(
        request, "thanks.html", {"start_link": links.start_link(token), "sandbox": links.sandbox}
    )


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
    token, new_cookie = csrf.form_token(request)
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
    if new_cookie is not None:
        csrf.set_cookie(request, response, new_cookie)
    return response
