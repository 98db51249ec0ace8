"""The room's call-to-action form: speakers show and hide it, leads send it. JSON in and out.

CSRF-protected like the chat (`web/room_chat.py`: the site's token in `X-CSRF-Token`, a
same-site `Origin`), and only for the session of this webinar's room. The rules are
Core's (`core/offers.py`); what the lead wrote is kept as text and shown nowhere as HTML.
"""

from __future__ import annotations

from aiohttp import web

from core.offers import TEXT_MAX, FormFields, Sent, close_offer, open_offer, submit_form
from core.users import NotAllowed
from locales import N_
from models import User
from web import csrf, keys
from web.bodies import read_json_object
from web.i18n import gettext
from web.room import webinar_by_slug
from web.room_chat import BAD_REQUEST, HEADER, NO_SESSION, ONLY_SPEAKERS
from web.room_session import session_of

ANSWERS = {
    Sent.SENT: (
        200,
        N_("Thank you! Your application has been sent; we will write to you in Telegram."),
    ),
    Sent.ALREADY: (200, N_("You have already sent this form. We will write to you in Telegram.")),
    Sent.NOT_OPEN: (409, N_("This form is closed now.")),
    Sent.TOO_LONG: (400, N_("That is too long: at most {limit} characters, please.")),
}


def _answer(request: web.Request, ok: bool, status: int, msgid: str) -> web.Response:
    text = gettext(request, msgid).format(limit=TEXT_MAX)
    return web.json_response({"ok": ok, "notice": text}, status=status)


async def send_form(request: web.Request) -> web.Response:
    """POST /w/<slug>/room/offer {"text": …}: a lead sends the speaker's form."""
    webinar = await webinar_by_slug(request)
    csrf.check(request, request.headers.get(HEADER, ""))
    session = session_of(request, webinar)
    if session is None or session.speaker:
        return _answer(request, False, 403, NO_SESSION)
    text = (await read_json_object(request)).get("text", "")
    if not isinstance(text, str):
        return _answer(request, False, 400, BAD_REQUEST)
    app = request.app
    sent = await submit_form(
        app[keys.HUB], app[keys.CLOCK], webinar, session.subject_id, FormFields(text=text)
    )
    status, msgid = ANSWERS[sent]
    return _answer(request, sent in (Sent.SENT, Sent.ALREADY), status, msgid)


async def toggle_offer(request: web.Request) -> web.Response:
    """POST /w/<slug>/room/offer/toggle {"open": true|false}: a speaker shows or hides it."""
    webinar = await webinar_by_slug(request)
    csrf.check(request, request.headers.get(HEADER, ""))
    session = session_of(request, webinar)
    actor = await User.get_or_none(id=session.subject_id) if session and session.speaker else None
    if actor is None:
        return _answer(request, False, 403, ONLY_SPEAKERS)
    wanted = (await read_json_object(request)).get("open")
    if not isinstance(wanted, bool):
        return _answer(request, False, 400, BAD_REQUEST)
    command = open_offer if wanted else close_offer
    app = request.app
    try:
        changed = await command(app[keys.HUB], app[keys.CLOCK], webinar.id, actor=actor)
    except NotAllowed:
        return _answer(request, False, 403, ONLY_SPEAKERS)
    return web.json_response({"ok": True, "changed": changed})
