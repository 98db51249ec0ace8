"""`create_app`: the aiohttp application with every route of the product."""

from __future__ import annotations

from aiohttp import web

from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.settings import Settings
from web import keys

MAX_BODY = 64 * 1024  # a registration form is a few hundred bytes


def create_app(settings: Settings, clock: Clock, hub: SignalHub, links: Links) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock
    app[keys.HUB] = hub
    app[keys.LINKS] = links
    return app
