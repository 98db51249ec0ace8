"""The public registration form (`/`, where partners' `?ref=` links point) and its
thank-you page. Thin views: parse, call Core's `core_ingest_event`, render.

`/` registers for the next scheduled webinar (partners' old links keep working), or only
collects the lead when none is scheduled. The webinar's own page (`web/webinar_page.py`)
shares the reading, the ingest and the rendering below.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from aiohttp import web
from multidict import MultiDict

from core import metrics
from core.contact import UTM_KEYS, Contact, ContactError, normalise
from core.ingest import core_ingest_event
from models import LeadTouch, Webinar
from web import csrf, handoff, keys
from web.bodies import is_checked, raw_contact
from web.i18n import request_lang
from web.pages import render

SOURCE = "web_form"
HIDDEN = ("ref", *UTM_KEYS)
TYPED = ("name", "phone", "email")


class Refused(NamedTuple):
    """A submission with errors: what to show again, and next to which field what."""

    values: dict[str, str]
    errors: dict[str, str]
    consent: bool


async def form_page(request: web.Request) -> web.Response:
    """GET /: the empty form, with `ref` and `utm_*` carried over from the link."""
    values = {key: request.query.get(key, "")[:200] for key in HIDDEN}
    return await _render_root(request, values, {}, consent=False, status=200)


async def submit(request: web.Request) -> web.StreamResponse:
    """POST /: CSRF and rate limit were checked by `security.form_guard`."""
    # What the visitor's page named is not trusted: the next webinar is looked up now
    # (by a read that began after this request came, shared with those beside it).
    webinar = await request.app[keys.NEXT_WEBINAR].get()
    submitted = read_contact(request, webinar_id=webinar.webinar_id if webinar else None)
    if isinstance(submitted, Refused):
        # 422 (not 200): the page is the form again, and scripts and load tests can
        # tell a refused submission from a page view. Nothing has been stored.
        values, errors, consent = submitted
        metrics.INGESTS.labels(SOURCE, "invalid").inc()
        return await _render_root(request, values, errors, consent=consent, status=422)
    return await ingest_and_thank(request, submitted)


def read_contact(request: web.Request, *, webinar_id: str | None) -> Contact | Refused:
    """The checked contact of the posted form, registering for `webinar_id` (if any)."""
    posted = request[keys.FORM]
    consent = is_checked(posted.get("consent"))
    raw = raw_contact(posted, source=SOURCE, consent=consent)
    raw.locale = request_lang(request)  # the bot writes in the language they registered in
    try:
        contact = normalise(raw, region=request.app[keys.SETTINGS].phone_region, require_phone=True)
    except ContactError as exc:
        return Refused(_typed(posted), exc.errors, consent)
    return replace(contact, webinar_id=webinar_id)


async def ingest_and_thank(request: web.Request, contact: Contact) -> web.Response:
    """`core_ingest_event`, then the thank-you page with this touch's deep link."""
    app = request.app
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
    touch = await LeadTouch.get_or_none(start_token=token)
    webinar = None
    if touch is not None and touch.webinar_id and touch.webinar_id.isdigit():
        webinar = await Webinar.get_or_none(id=int(touch.webinar_id))
    context = {"start_link": links.start_link(token), "sandbox": links.sandbox, "webinar": webinar}
    return render(request, "thanks.html", context)


def _typed(posted: MultiDict[str]) -> dict[str, str]:
    return {key: posted.get(key, "") for key in (*TYPED, *HIDDEN, "tz")}


async def _render_root(
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    consent: bool,
    status: int,
) -> web.Response:
    webinar = await request.app[keys.NEXT_WEBINAR].get()
    action = request.app.router["form"].url_for().with_query(lang=request_lang(request))
    extra = {"action": str(action), "next_webinar": webinar}
    return render_form(
        request, "form.html", values, errors, consent=consent, status=status, extra=extra
    )


def render_form(
    request: web.Request,
    template: str,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    consent: bool,
    status: int,
    extra: dict[str, Any],
) -> web.Response:
    """A page holding the registration form (its CSRF token, values and errors)."""
    token, new_cookie = csrf.form_token(request)
    context = {
        "values": {key: values.get(key, "") for key in (*TYPED, *HIDDEN, "tz")},
        "hidden": HIDDEN,
        "errors": errors,
        "consent": consent,
        "csrf_field": csrf.FIELD,
        "csrf_token": token,
        **extra,
    }
    response = render(request, template, context, status=status)
    if new_cookie is not None:
        csrf.set_cookie(request, response, new_cookie)
    return response
