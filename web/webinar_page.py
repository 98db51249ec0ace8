"""The public webinar page `/w/<slug>`: what, who, when, and the registration form.

Render-only over Core data (the seed's "Webinar Public UI uses only Core data"). The form
is the one of `/` (same fields, CSRF, rate limit, `core_ingest_event`), plus the webinar:
the submission registers the lead for it (`client_webinar_registered`, once per lead and
webinar). The page follows the webinar's status without a reload: a small script asks
`/w/<slug>/state` every few seconds and switches the page when the status changes.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

from aiohttp import web

from core.auto_webinars import SessionRefused, choose_session, jit_offer, offered_sessions
from core.present import public_name
from core.webinar_rules import WebinarInvalid, parse_tz
from core.webinars import find_webinar
from models import AutoSeries, StreamType, User, Webinar, WebinarRegistration, WebinarStatus
from web import form, keys
from web.i18n import request_lang

OPEN = (WebinarStatus.SCHEDULED, WebinarStatus.LIVE)


async def _find(request: web.Request) -> Webinar | AutoSeries:
    slug = request.match_info["slug"]
    if len(slug) > 64 or slug.isdigit():
        raise web.HTTPNotFound()
    # A deleted series is gone from its address (its sessions' rooms stay for their people).
    found = await find_webinar(slug) or await AutoSeries.get_or_none(
        slug=slug.lower(), deleted_at__isnull=True
    )
    if found is None:
        raise web.HTTPNotFound()
    return found


async def _webinar(request: web.Request) -> Webinar:
    found = await _find(request)
    if not isinstance(found, Webinar):
        raise web.HTTPNotFound()
    return found


async def webinar_page(request: web.Request) -> web.Response:
    """GET /w/<slug>: the page, with `ref` and `utm_*` of the link carried into the form."""
    found = await _find(request)
    values = {key: request.query.get(key, "")[:200] for key in form.HIDDEN}
    if isinstance(found, AutoSeries):
        return await render_series(request, found, values, {}, consent=False, status=200)
    return await render_page(request, found, values, {}, consent=False, status=200)


async def webinar_submit(request: web.Request) -> web.StreamResponse:
    """POST /w/<slug>: CSRF and rate limit were checked by `security.form_guard`."""
    found = await _find(request)
    if isinstance(found, AutoSeries):
        return await series_submit(request, found)
    webinar = found
    if WebinarStatus(webinar.status) not in OPEN:
        # Registration closed while the page was open: say so, store nothing.
        return await render_page(request, webinar, {}, {}, consent=False, status=409)
    submitted = form.read_contact(request, webinar_id=webinar.webinar_id)
    if isinstance(submitted, form.Refused):
        values, errors, consent = submitted
        return await render_page(request, webinar, values, errors, consent=consent, status=422)
    return await form.ingest_and_thank(request, submitted)


async def webinar_state(request: web.Request) -> web.Response:
    """GET /w/<slug>/state: the status and start, for the page's script (no-store JSON)."""
    webinar = await _webinar(request)
    body = {"status": WebinarStatus(webinar.status).value, "starts_at": int(webinar.starts_at)}
    return web.Response(
        text=json.dumps(body),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def speaker_photo(request: web.Request) -> web.Response:
    """GET /w/<slug>/speaker: the host's approved photo (fetched from Telegram, cached)."""
    webinar = await _webinar(request)
    speaker = await User.get_or_none(id=webinar.speaker_id) if webinar.speaker_id else None
    if speaker is None or not speaker.photo_file_id:
        raise web.HTTPNotFound()
    photo = await request.app[keys.PHOTOS].get(speaker.photo_file_id)
    if photo is None:
        raise web.HTTPNotFound()
    data, mime = photo
    return web.Response(body=data, content_type=mime, headers={"Cache-Control": "max-age=300"})


async def render_page(
    request: web.Request,
    webinar: Webinar,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    consent: bool,
    status: int,
) -> web.Response:
    speaker = await User.get_or_none(id=webinar.speaker_id) if webinar.speaker_id else None
    state = WebinarStatus(webinar.status)
    slug = webinar.slug
    context = {
        "webinar": webinar,
        "status": state.value,
        "open": state in OPEN,
        "paragraphs": [p.strip() for p in webinar.description.split("\n\n") if p.strip()],
        "speaker_name": _speaker_name(speaker),
        "speaker_photo": bool(speaker and speaker.photo_file_id),
        "starts_at": int(webinar.starts_at),
        "external": StreamType(webinar.stream_type) is not StreamType.OBS,
        "registered": await WebinarRegistration.filter(webinar_id=webinar.id).count(),
        "action": str(
            request.app.router["webinar_submit"]
            .url_for(slug=slug)
            .with_query(lang=request_lang(request))
        ),
        "state_url": str(request.app.router["webinar_state"].url_for(slug=slug)),
        "photo_url": str(request.app.router["speaker_photo"].url_for(slug=slug)),
    }
    return form.render_form(
        request, "webinar.html", values, errors, consent=consent, status=status, extra=context
    )


def _speaker_name(speaker: User | None) -> str:
    if speaker is None:
        return ""
    return public_name(speaker)


async def series_submit(request: web.Request, series: AutoSeries) -> web.StreamResponse:
    """POST /w/<series slug>: the contact and the chosen session (`session`: an id or
    `jit`); a just-in-time session is made only for a contact that passed its checks."""
    choice = request[keys.FORM].get("session", "")[:20]
    submitted = form.read_contact(request, webinar_id=None)
    if isinstance(submitted, form.Refused):
        values, errors, consent = submitted
        return await render_series(
            request, series, values, errors, consent=consent, status=422, chosen=choice
        )
    app = request.app
    try:
        session = await choose_session(app[keys.HUB], app[keys.CLOCK], series, choice)
    except SessionRefused as refused:
        posted = request[keys.FORM]
        values = {key: posted.get(key, "") for key in (*form.TYPED, *form.HIDDEN, "tz")}
        errors = {"session": refused.text}
        return await render_series(
            request, series, values, errors, consent=True, status=422, chosen=""
        )
    return await form.ingest_and_thank(request, replace(submitted, webinar_id=session.webinar_id))


def _zone(values: dict[str, str], fallback: str) -> str:
    """The visitor's zone as their form reported it, when it is a real one."""
    try:
        return parse_tz(values.get("tz", ""))
    except WebinarInvalid:
        return fallback


async def render_series(
    request: web.Request,
    series: AutoSeries,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    consent: bool,
    status: int,
    chosen: str = "",
) -> web.Response:
    now = request.app[keys.CLOCK].now()
    sessions = await offered_sessions(series, now)
    jit = jit_offer(series, now)
    if not chosen:  # the soonest is picked unless the visitor picked another
        chosen = "jit" if jit is not None else (str(sessions[0].id) if sessions else "")
    context = {
        "series": series,
        "paragraphs": [p.strip() for p in series.description.split("\n\n") if p.strip()],
        "sessions": sessions,
        "jit": jit,
        "jit_minutes": math.ceil((jit - now) / 60) if jit is not None else 0,
        "chosen": chosen,
        "zone": _zone(values, series.tz),
        "session_choice": True,
        "action": str(
            request.app.router["webinar_submit"]
            .url_for(slug=series.slug)
            .with_query(lang=request_lang(request))
        ),
    }
    return form.render_form(
        request,
        "webinar_series.html",
        values,
        errors,
        consent=consent,
        status=status,
        extra=context,
    )
