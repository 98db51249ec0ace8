"""Typed application and request keys: how views get their dependencies (no `app["x"]`)."""

from __future__ import annotations

from gettext import GNUTranslations

from aiohttp import web
from multidict import MultiDict

from core.chat import ChatPoster
from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.live import LiveRooms
from core.presence import PresenceTracker
from core.settings import Settings
from core.shared_read import SharedRead
from models import Webinar
from web.photos import PhotoCache
from web.ratelimit import RateLimiter
from web.room_writers import RoomWriters
from web.telegram_auth import MiniAppAuth

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
HUB = web.AppKey("hub", SignalHub)
LINKS = web.AppKey("links", Links)
TRANSLATIONS = web.AppKey[dict[str, GNUTranslations]]("translations")
FORM_LIMITER = web.AppKey("form_limiter", RateLimiter)
VISIT_LIMITER = web.AppKey("visit_limiter", RateLimiter)
PHOTOS = web.AppKey("photos", PhotoCache)
# The webinar `/` registers for, read once for all the submissions waiting on it.
NEXT_WEBINAR = web.AppKey[SharedRead[Webinar | None]]("next_webinar")
# The webinar room: its live connections, chat posting, and Mini App sign-in.
LIVE = web.AppKey("live", LiveRooms)
ROOM_WRITERS = web.AppKey("room_writers", RoomWriters)
CHAT = web.AppKey("chat", ChatPoster)
MINI_APP = web.AppKey("mini_app", MiniAppAuth)
PRESENCE = web.AppKey("presence", PresenceTracker)

# Per request: the page language, and the form body once parsed (CSRF check, then view).
LANG = web.RequestKey("lang", str)
FORM = web.RequestKey[MultiDict[str]]("form")
