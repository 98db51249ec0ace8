"""The room's chat endpoints: posting, and the speakers' moderation. JSON in and out.

Both are CSRF-protected like the registration form (`web/csrf.py`: the site's signed
double-submit token, here in the `X-CSRF-Token` header, and a same-site `Origin`), and
act only for the session of this webinar's room. The rules are Core's (`core/chat.py`);
a refusal a person can do something about (too fast, too long, muted, closed) is a JSON
`notice` the room shows beside the input, not an error page.

`replay_chats` runs the replay of an original live run's chat in the live AUTO sessions
(`core/chat.py`'s `ChatReplay`) once a second while the app runs: a message then reaches
the rooms within about a second of its offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from core.chat import (
    Author,
    ChatRefused,
    ChatReplay,
    NoSuchMessage,
    Refusal,
    author_lead,
    delete_message,
    lead_author,
    mute,
    set_chat_open,
    speaker_author,
    unmute,
)
from core.users import NotAllowed
from locales import N_
from models import LeadEntry, User, Webinar
from web import csrf, keys
from web.bodies import read_json_object
from web.i18n import gettext
from web.room import webinar_by_slug
from web.room_session import RoomSession, session_of

log = logging.getLogger(__name__)

HEADER = "X-CSRF-Token"
REPLAY_EVERY = 1.0  # seconds between two replay ticks
STATUS = {
    Refusal.NO_CHAT: 409,
    Refusal.CLOSED: 403,
    Refusal.MUTED: 403,
    Refusal.EMPTY: 400,
    Refusal.TOO_LONG: 400,
    Refusal.FLOOD: 429,
}
NO_SESSION = N_("Your room session has ended. Please open the room again from your link.")
ONLY_SPEAKERS = N_("Only speakers can moderate the chat.")
NO_MESSAGE = N_("That message is not in this chat any more.")
SPEAKER_MESSAGE = N_("This is a speaker's message: speakers cannot be muted.")
BAD_REQUEST = N_("The request was not understood. Please reload the page.")


def _notice(
    request: web.Request, status: int, msgid: str, headers: dict[str, str] | None = None, **kw: Any
) -> web.Response:
    text = gettext(request, msgid).format(**kw)
    return web.json_response({"ok": False, "notice": text}, status=status, headers=headers)


async def _session(request: web.Request) -> tuple[Webinar, RoomSession | None]:
    """The webinar and this browser's session in its room (after the CSRF check)."""
    webinar = await webinar_by_slug(request)
    csrf.check(request, request.headers.get(HEADER, ""))
    return webinar, session_of(request, webinar)


async def _author(session: RoomSession) -> Author | None:
    if session.speaker:
        user = await User.get_or_none(id=session.subject_id)
        return speaker_author(user) if user is not None else None
    lead = await LeadEntry.get_or_none(id=session.subject_id)
    return lead_author(lead) if lead is not None else None


async def post_message(request: web.Request) -> web.Response:
    """POST /w/<slug>/room/chat {"text": …}."""
    webinar, session = await _session(request)
    author = await _author(session) if session is not None else None
    if author is None:
        return _notice(request, 403, NO_SESSION)
    text = (await read_json_object(request)).get("text")
    if not isinstance(text, str):
        return _notice(request, 400, BAD_REQUEST)
    try:
        message = await request.app[keys.CHAT].post(webinar, author, text)
    except ChatRefused as exc:
        seconds = exc.params.get("seconds")
        headers = {"Retry-After": str(seconds)} if seconds else None
        return _notice(request, STATUS[exc.reason], exc.msgid, headers, **exc.params)
    return web.json_response({"ok": True, "id": message.id})


async def moderate(request: web.Request) -> web.Response:
    """POST /w/<slug>/room/moderate {"action": delete|mute|unmute|close|open, "message_id"}."""
    webinar, session = await _session(request)
    if session is None:
        return _notice(request, 403, NO_SESSION)
    actor = await User.get_or_none(id=session.subject_id) if session.speaker else None
    if actor is None:
        return _notice(request, 403, ONLY_SPEAKERS)
    body = await read_json_object(request)
    action, message_id = body.get("action"), body.get("message_id")
    app = request.app
    hub, clock = app[keys.HUB], app[keys.CLOCK]
    try:
        if action in ("close", "open"):
            changed = await set_chat_open(hub, clock, webinar.id, action == "open", actor=actor)
        elif action in ("delete", "mute", "unmute") and type(message_id) is int:
            if action == "delete":
                changed = await delete_message(hub, clock, webinar.id, message_id, actor=actor)
            elif (lead_id := await author_lead(webinar.id, message_id)) is None:
                return _notice(request, 400, SPEAKER_MESSAGE)
            else:
                command = mute if action == "mute" else unmute
                changed = await command(hub, clock, webinar.id, lead_id, actor=actor)
        else:
            return _notice(request, 400, BAD_REQUEST)
    except NotAllowed:
        return _notice(request, 403, ONLY_SPEAKERS)
    except NoSuchMessage:
        return _notice(request, 404, NO_MESSAGE)
    return web.json_response({"ok": True, "changed": changed})


async def _replay_forever(replay: ChatReplay) -> None:
    while True:
        try:
            await replay.tick()
        except Exception:  # the next tick tries again; a replay is never worth a crash
            log.exception("chat replay failed")
        await asyncio.sleep(REPLAY_EVERY)


async def replay_chats(app: web.Application) -> AsyncIterator[None]:
    """The app's cleanup context running the AUTO sessions' chat replay."""
    task = asyncio.create_task(_replay_forever(ChatReplay(app[keys.CLOCK], app[keys.LIVE])))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
