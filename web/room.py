"""The webinar room: the personal and speaker links into it, and the room page.

Thin views over Core (`core/room.py`, `core/room_tokens.py`): a link is read, Core
records the entry, a room session cookie is set and the browser goes to
`/w/<slug>/room`, which renders `room_view` and connects to the live stream
(`web/room_stream.py`). Refusals are the site's error page with their own words: a
forged or another webinar's token, an expired one, a speaker link of someone who no
longer moderates. Nothing is recorded for a refused link.

An AUTO session's room plays the recording in step with its timeline: the page carries
`sync` (the planned start) and the server's clock (`now`), and the script starts the
player at now − start and keeps it from running ahead of that (`web/static/room.js`).

Link preview robots (Telegram's among them) open links they see in messages: they get
the redirect but record no entry and no session, so a link that merely appeared in a
chat does not count as the lead having come in.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.chat import REASONS, TEXT_MAX, Refusal, is_muted
from core.offers import TEXT_MAX as OFFER_MAX
from core.present import local
from core.roles import Capability, can
from core.room import enter_room, player_for, room_view
from core.room_tokens import RoomTokens, TokenKind, link_expires_at
from locales import N_
from models import LeadEntry, StreamType, User, Webinar, WebinarKind
from web import csrf, keys
from web.i18n import gettext, request_lang
from web.pages import CSP, render
from web.room_session import RoomSession, open_session, room_path, session_of

PREVIEW_ROBOTS = (
    "TelegramBot",
    "facebookexternalhit",
    "WhatsApp",
    "Twitterbot",
    "Slackbot",
    "Discordbot",
    "vkShare",
    "SkypeUriPreview",
)
# Texts the room's script shows (the rest of the page is rendered here).
SCRIPT_TEXTS = {
    "guest": N_("Guest"),
    "speaker": N_("speaker"),
    "replay": N_("from the original broadcast"),
    "delete": N_("Delete"),
    "mute": N_("Mute"),
    "close_chat": N_("Close the chat"),
    "open_chat": N_("Open the chat"),
    "closed": REASONS[Refusal.CLOSED],
    "muted": REASONS[Refusal.MUTED],
    "starting": N_("Starting any minute now…"),
    "offline": N_("Connection lost. Reconnecting…"),
    "failed": N_("That did not work. Please try again."),
    "open_zoom": N_("Open Zoom"),
    "open_telegram": N_("Open the stream in Telegram"),
    "offer_open": N_("Show the form to viewers"),
    "offer_close": N_("Hide the form"),
}


class LinkInvalid(web.HTTPForbidden):
    title = N_("This link does not open the room")
    explanation = N_(
        "The link is incomplete, or it belongs to another webinar. Please open the room "
        "with the button or link from your latest message from our Telegram bot."
    )


class LinkExpired(web.HTTPForbidden):
    title = N_("This link has expired")
    explanation = N_(
        "The webinar ended more than a week ago, and its room is closed. Our Telegram "
        "bot will tell you about the next one."
    )


class NotModerator(web.HTTPForbidden):
    title = N_("This link is for speakers")
    explanation = N_(
        "It lets speakers moderate the chat, and your account no longer may. Ask an "
        "administrator if that is a mistake."
    )


class NoWebinar(web.HTTPNotFound):
    explanation = N_("There is no webinar at this address. Check the link.")


async def webinar_by_slug(request: web.Request) -> Webinar:
    webinar = await Webinar.get_or_none(slug=request.match_info["slug"].lower())
    if webinar is None:
        raise NoWebinar()
    return webinar


def _preview_robot(request: web.Request) -> bool:
    agent = request.headers.get("User-Agent", "")
    return any(robot in agent for robot in PREVIEW_ROBOTS)


def _to_room(request: web.Request, webinar: Webinar) -> web.Response:
    lang = request.query.get("lang")
    location = room_path(webinar) + (f"?lang={lang}" if lang in ("ru", "en") else "")
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


async def _linked_webinar(request: web.Request, kind: TokenKind) -> tuple[Webinar, int]:
    """The webinar of a room link and the subject its token names; refusals raised."""
    webinar = await Webinar.get_or_none(id=int(request.match_info["webinar_id"]))
    tokens = RoomTokens(request.app[keys.SETTINGS].secret_key)
    subject = tokens.read(kind, webinar.id, request.match_info["token"]) if webinar else None
    if webinar is None or subject is None:
        raise LinkInvalid()
    if request.app[keys.CLOCK].now() > link_expires_at(webinar):
        raise LinkExpired()
    return webinar, subject


async def personal_link(request: web.Request) -> web.StreamResponse:
    """GET /t/<webinar>/<token>: tracker v2's entry (`client_webinar_entered`), then the room."""
    webinar, lead_id = await _linked_webinar(request, TokenKind.LEAD)
    if not await LeadEntry.exists(id=lead_id):
        raise LinkInvalid()
    response = _to_room(request, webinar)
    if _preview_robot(request):
        return response
    app = request.app
    await enter_room(app[keys.HUB], app[keys.CLOCK], webinar, lead_id, via="link")
    open_session(request, response, webinar, RoomSession(webinar.id, TokenKind.LEAD, lead_id))
    return response


async def speaker_link(request: web.Request) -> web.StreamResponse:
    """GET /t/<webinar>/speaker/<token>: a speaker enters to moderate (nothing recorded)."""
    webinar, user_id = await _linked_webinar(request, TokenKind.SPEAKER)
    user = await User.get_or_none(id=user_id)
    if user is None or not await can(user, Capability.WEBINAR_MANAGE_CHAT):
        raise NotModerator()
    response = _to_room(request, webinar)
    if not _preview_robot(request):
        session = RoomSession(webinar.id, TokenKind.SPEAKER, user_id)
        open_session(request, response, webinar, session)
    return response


async def me_of(session: RoomSession) -> dict[str, Any] | None:
    """What the room knows of its viewer; None when the session's person is gone (or a
    speaker no longer moderates)."""
    if session.speaker:
        user = await User.get_or_none(id=session.subject_id)
        if user is None or not await can(user, Capability.WEBINAR_MANAGE_CHAT):
            return None
        return {"speaker": True, "muted": False}
    if not await LeadEntry.exists(id=session.subject_id):
        return None
    return {"speaker": False, "muted": await is_muted(session.webinar_id, session.subject_id)}


def room_policy(webinar: Webinar) -> str:
    """The page policy, opened for this webinar's player and recording hosts only (both,
    whatever the status now: the page switches to them without a reload)."""
    frames: set[str] = set()
    media: set[str] = set()
    urls = [webinar.recording_url]
    if StreamType(webinar.stream_type) is StreamType.OBS:
        urls.append(webinar.stream_url)
    for url in urls:
        player = player_for(url)
        if player is not None and player.origin:
            (frames if player.kind == "iframe" else media).add(player.origin)
    directives = [
        CSP,
        " ".join(["connect-src 'self'", *sorted(media)]),  # the live stream; hls.js' fetches
        " ".join(["media-src 'self' blob:", *sorted(media)]),
    ]
    if frames:
        directives.append(" ".join(["frame-src", *sorted(frames)]))
    return "; ".join(directives)


async def room_page(request: web.Request) -> web.Response:
    """GET /w/<slug>/room: the room of this browser's session, or the way in."""
    webinar = await webinar_by_slug(request)
    session = session_of(request, webinar)
    me = await me_of(session) if session is not None else None
    token, new_nonce = csrf.form_token(request)
    if session is None or me is None:
        response = _gate(request, webinar, token)
    else:
        response = _room(request, webinar, session, me, token)
    if new_nonce is not None:
        csrf.set_cookie(request, response, new_nonce)
    return response


def _urls(request: web.Request, webinar: Webinar) -> dict[str, str]:
    path = room_path(webinar)
    return {
        "room": path,
        "events": f"{path}/events",
        "chat": f"{path}/chat",
        "moderate": f"{path}/moderate",
        "telegram": f"{path}/telegram",
        "presence": f"{path}/presence",
        "platform": f"{path}/platform",
        "offer": f"{path}/offer",
        "offer_toggle": f"{path}/offer/toggle",
    }


def _room(
    request: web.Request,
    webinar: Webinar,
    session: RoomSession,
    me: dict[str, Any],
    token: str,
) -> web.Response:
    app = request.app
    view = room_view(webinar)
    # The lead's personal token: the presence reports carry it (`web/room_presence.py`).
    token_of_lead = (
        None
        if session.speaker
        else RoomTokens(app[keys.SETTINGS].secret_key).mint(
            TokenKind.LEAD, webinar.id, session.subject_id
        )
    )
    data = {
        "state": view.to_json(),
        "me": me,
        "now": app[keys.CLOCK].now(),
        # AUTO: the recording plays as if live, from this start on (the server's clock).
        "sync": WebinarKind(webinar.kind) is WebinarKind.AUTO,
        "csrf": token,
        "token": token_of_lead,
        "lang": request_lang(request),
        "urls": _urls(request, webinar),
        "hls": str(app.router["static"].url_for(filename="vendor/hls.light.min.js")),
        "texts": {key: gettext(request, msgid) for key, msgid in SCRIPT_TEXTS.items()},
    }
    # The start in the webinar's own zone; the script shows it in the viewer's.
    start = local(webinar.starts_at, webinar.tz)
    context = {
        "webinar": webinar,
        "view": view,
        "me": me,
        "data": data,
        "starts_iso": start.isoformat(),
        "starts_local": f"{start:%d.%m.%Y %H:%M} ({webinar.tz})",
        "text_max": TEXT_MAX,
        "offer_max": OFFER_MAX,
    }
    response = render(request, "room.html", context)
    response.headers["Content-Security-Policy"] = room_policy(webinar)
    return response


def _gate(request: web.Request, webinar: Webinar, token: str) -> web.Response:
    data = {
        "csrf": token,
        "urls": _urls(request, webinar),
        "texts": {"failed": gettext(request, SCRIPT_TEXTS["failed"])},
    }
    context = {"webinar": webinar, "data": data}
    response = render(request, "room_gate.html", context, status=403)
    response.headers["Content-Security-Policy"] = f"{CSP}; connect-src 'self'"  # sign-in
    return response
