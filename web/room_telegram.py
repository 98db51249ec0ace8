"""`POST /w/<slug>/room/telegram`: the room opened as a Telegram Mini App signs in.

The room page, opened from the bot's `web_app` button, finds Telegram's `initData` in its
address (`#tgWebAppData=…`, as Telegram passes it) and posts it here. Validated with the
running bot's token and a recent `auth_date` (`web/telegram_auth.py`), it names the
Telegram user: a speaker (`webinar_manage_chat`) enters to moderate; anyone else as the
lead bound to their Telegram account — entering as the personal link does (recorded
once, registered if they were not). Someone the funnel does not know is refused.
"""

from __future__ import annotations

from aiohttp import web

from core.roles import Capability, can
from core.room import enter_room, lead_of_user
from core.room_tokens import TokenKind, link_expires_at
from locales import N_
from models import User
from web import csrf, keys
from web.bodies import read_json_object
from web.i18n import gettext
from web.room import webinar_by_slug
from web.room_session import RoomSession, open_session, room_path

NOT_CONFIRMED = N_(
    "Telegram did not confirm who you are, or too long ago. Please open the room again "
    "with the button in the bot."
)
UNKNOWN = N_(
    "We do not know your Telegram account yet. Please register for the webinar first, "
    "then open the room from the bot."
)
EXPIRED = N_("This webinar's room is closed.")


def _refuse(request: web.Request, msgid: str) -> web.Response:
    return web.json_response({"ok": False, "notice": gettext(request, msgid)}, status=403)


async def mini_app_sign_in(request: web.Request) -> web.Response:
    webinar = await webinar_by_slug(request)
    csrf.check(request, request.headers.get("X-CSRF-Token", ""))
    init_data = (await read_json_object(request)).get("init_data")
    app = request.app
    clock = app[keys.CLOCK]
    data = app[keys.MINI_APP].validate(init_data if isinstance(init_data, str) else "", clock.now())
    if data is None or data.user is None:
        return _refuse(request, NOT_CONFIRMED)
    if clock.now() > link_expires_at(webinar):
        return _refuse(request, EXPIRED)
    user = await User.get_or_none(telegram_id=data.user.id)
    if user is not None and await can(user, Capability.WEBINAR_MANAGE_CHAT):
        session = RoomSession(webinar.id, TokenKind.SPEAKER, user.id)
    else:
        lead = await lead_of_user(webinar, user) if user is not None else None
        if lead is None:
            return _refuse(request, UNKNOWN)
        await enter_room(app[keys.HUB], clock, webinar, lead.id, via="mini_app")
        session = RoomSession(webinar.id, TokenKind.LEAD, lead.id)
    response = web.json_response({"ok": True, "room": room_path(webinar)})
    open_session(request, response, webinar, session)
    return response
