"""`create_app`: the aiohttp application with every route of the product."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.live import LiveRooms
from core.presence import PresenceTracker
from core.settings import Settings, parse_rate
from core.shared_read import SharedRead
from core.webinars import next_scheduled
from locales import load_translations
from web import keys
from web.deadlines import BODY_DEADLINE, body_deadline
from web.errors import error_pages
from web.form import form_page, submit, thanks
from web.i18n import setup_templates
from web.ingest_api import ingest
from web.photos import PhotoCache
from web.ratelimit import RateLimiter
from web.referral import referral_link
from web.room_routes import setup_room
from web.security import common_headers, form_guard
from web.webinar_page import speaker_photo, webinar_page, webinar_state, webinar_submit

MAX_BODY = 64 * 1024  # a registration form is a few hundred bytes
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(
    settings: Settings,
    clock: Clock,
    hub: SignalHub,
    links: Links,
    live: LiveRooms | None = None,
    presence: PresenceTracker | None = None,
) -> web.Application:
    """`live`: the rooms' broadcaster the hub's consumers push to; `presence`: the rooms'
    presence tracker the stop flushes (main.py shares one of each)."""
    # body_deadline is outermost: every route's body, the sandbox's too, has a deadline.
    # error_pages comes next, so it also answers what form_guard refuses (403/413/429).
    app = web.Application(
        client_max_size=MAX_BODY, middlewares=[body_deadline, error_pages, form_guard]
    )
    app[BODY_DEADLINE] = settings.web_body_timeout_seconds
    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock
    app[keys.HUB] = hub
    app[keys.LINKS] = links
    app[keys.TRANSLATIONS] = load_translations()
    limit, period = parse_rate(settings.form_rate_limit)
    app[keys.FORM_LIMITER] = RateLimiter(limit, period, clock)
    app[keys.VISIT_LIMITER] = RateLimiter(*parse_rate(settings.ref_visit_rate), clock)
    app[keys.PHOTOS] = PhotoCache()
    app[keys.NEXT_WEBINAR] = SharedRead(lambda: next_scheduled(clock))
    setup_routes(app)
    setup_room(
        app,
        live if live is not None else LiveRooms(),
        presence if presence is not None else PresenceTracker(),
    )
    setup_templates(app)
    app.on_response_prepare.append(common_headers)
    return app


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", form_page, name="form")
    app.router.add_post("/", submit, name="form_submit")
    app.router.add_get("/thanks", thanks, name="thanks")
    app.router.add_get("/r/{code}", referral_link, name="referral_link")
    app.router.add_get("/w/{slug}", webinar_page, name="webinar_page")
    app.router.add_post("/w/{slug}", webinar_submit, name="webinar_submit")
    app.router.add_get("/w/{slug}/state", webinar_state, name="webinar_state")
    app.router.add_get("/w/{slug}/speaker", speaker_photo, name="speaker_photo")
    app.router.add_post("/api/ingest", ingest, name="api_ingest")
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=True)
