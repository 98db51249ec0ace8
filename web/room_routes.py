"""`setup_room`: the webinar room's dependencies and routes on the product's web app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from core.chat import FLOOD_LIMIT, FLOOD_PERIOD, ChatPoster
from core.live import LiveRooms
from core.presence import PresenceTracker
from web import keys
from web.ratelimit import RateLimiter
from web.room import personal_link, room_page, speaker_link
from web.room_chat import moderate, post_message, replay_chats
from web.room_offer import send_form, toggle_offer
from web.room_presence import setup_presence
from web.room_stream import frame, keep_alive, room_events
from web.room_telegram import mini_app_sign_in
from web.room_writers import RoomWriters
from web.telegram_auth import MiniAppAuth


async def _keep_alive(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(keep_alive(app[keys.LIVE]))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await app[keys.ROOM_WRITERS].stop()


async def _close_rooms(app: web.Application) -> None:
    app[keys.LIVE].close()  # open live connections end now, not at the shutdown timeout


def setup_room(app: web.Application, live: LiveRooms, presence: PresenceTracker) -> None:
    clock = app[keys.CLOCK]
    app[keys.LIVE] = live
    app[keys.ROOM_WRITERS] = RoomWriters(live, frame)
    app[keys.CHAT] = ChatPoster(clock, live, RateLimiter(FLOOD_LIMIT, FLOOD_PERIOD, clock))
    app[keys.MINI_APP] = MiniAppAuth()  # the bot's token is set when the bot starts
    app.on_shutdown.append(_close_rooms)
    app.cleanup_ctx.append(_keep_alive)
    app.cleanup_ctx.append(replay_chats)
    router = app.router
    # GET only (no HEAD): a link checker's HEAD must not count as the lead coming in.
    link = "/t/{webinar_id:[0-9]{1,18}}"
    router.add_get(link + "/{token}", personal_link, name="room_link", allow_head=False)
    router.add_get(
        link + "/speaker/{token}", speaker_link, name="room_speaker_link", allow_head=False
    )
    room = "/w/{slug}/room"
    router.add_get(room, room_page, name="room")
    router.add_get(room + "/events", room_events, name="room_events", allow_head=False)
    router.add_post(room + "/chat", post_message, name="room_chat")
    router.add_post(room + "/moderate", moderate, name="room_moderate")
    router.add_post(room + "/telegram", mini_app_sign_in, name="room_telegram")
    router.add_post(room + "/offer", send_form, name="room_offer")
    router.add_post(room + "/offer/toggle", toggle_offer, name="room_offer_toggle")
    setup_presence(app, presence)
