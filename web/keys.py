"""Typed application keys: how views get their dependencies (no `app["x"]` strings)."""

from __future__ import annotations

from aiohttp import web

from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
HUB = web.AppKey("hub", SignalHub)
LINKS = web.AppKey("links", Links)
