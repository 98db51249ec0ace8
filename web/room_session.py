"""The room session: who this browser is in one webinar's room, in a signed cookie.

Set by the personal link, the speaker link or the Mini App sign-in, then sent with every
request of that room (the page, its live connection, its chat posts) and no other: the
cookie's path is the room's own (`/w/<slug>/room`), so rooms of other webinars, and every
other page, never see it. HttpOnly (no script reads it), SameSite=Lax (no other site's
request carries it on a POST), signed with `SECRET_KEY` (nobody makes one up), and it
expires with the room's links (`core/room_tokens.link_expires_at`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from core.room_tokens import TokenKind, link_expires_at
from models import Webinar
from web import keys
from web.signing import sign, unsign

COOKIE = "funnel_room"
_PURPOSE = "room-session"
_VALUE = re.compile(r"^([0-9]{1,19}):(lead|speaker):([0-9]{1,19}):([0-9]{1,12})$")


@dataclass(frozen=True)
class RoomSession:
    webinar_id: int
    kind: TokenKind
    subject_id: int  # a lead's id, or a speaker's user id

    @property
    def speaker(self) -> bool:
        return self.kind is TokenKind.SPEAKER

    @property
    def who(self) -> str:
        """The broadcaster's key for this person (`core.chat.Author.who`)."""
        return f"user:{self.subject_id}" if self.speaker else f"lead:{self.subject_id}"


def room_path(webinar: Webinar) -> str:
    return f"/w/{quote(webinar.slug)}/room"


def cookie_value(secret: str, session: RoomSession, expires: int) -> str:
    """The signed cookie of `session` (also what the room benchmark's viewers carry)."""
    value = f"{session.webinar_id}:{session.kind.value}:{session.subject_id}:{expires}"
    return sign(secret, _PURPOSE, value)


def open_session(
    request: web.Request, response: web.StreamResponse, webinar: Webinar, session: RoomSession
) -> None:
    app = request.app
    now = app[keys.CLOCK].now()
    expires = int(link_expires_at(webinar))
    response.set_cookie(
        COOKIE,
        cookie_value(app[keys.SETTINGS].secret_key, session, expires),
        max_age=max(0, int(expires - now)),
        path=room_path(webinar),
        httponly=True,
        samesite="Lax",
        secure=app[keys.SETTINGS].base_url.startswith("https://"),
    )


def session_of(request: web.Request, webinar: Webinar) -> RoomSession | None:
    """This browser's session in `webinar`'s room, or None (none, forged, another
    webinar's, or expired)."""
    return session_in(request, webinar.id)


def session_in(request: web.Request, webinar_id: int) -> RoomSession | None:
    """`session_of` by the webinar's id (the presence reports read no webinar row)."""
    signed = request.cookies.get(COOKIE, "")
    secret = request.app[keys.SETTINGS].secret_key
    value = unsign(secret, _PURPOSE, signed) if signed else None
    match = _VALUE.match(value or "")
    if match is None or int(match[1]) != webinar_id:
        return None
    if int(match[4]) <= request.app[keys.CLOCK].now():
        return None
    return RoomSession(webinar_id, TokenKind(match[2]), int(match[3]))
