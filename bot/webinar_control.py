"""`/webinars` for speakers: start, stop and cancel webinars by button.

Every press goes through `core_webinar_set_status` (`core/webinars.set_status`), which
stores the event and makes one transition however many presses race: this screen only
says what came of it — done; already done, by whom and when; or not possible, and why.
A candidate's `/webinars` (their registrations) is another router's: this one answers
only those with `webinar_manage_status`, and re-checks it on every press.

While a webinar is live, Open/Close offer (`webinar_manage_chat`) shows or hides the
speaker's form in every open room (`core/offers.py`: the rooms hear it over their live
connection); the pressed list is redrawn with the other button.
"""

from __future__ import annotations

from typing import Final

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, Update

from bot.access import allowed, refusal
from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from bot.webinar_list import STATUS_WORDS, local_time, person_name, zone_of
from bot.webinar_panels import ControlPanels
from core.clock import Clock
from core.hub import SignalHub
from core.offers import close_offer, open_offer
from core.roles import Capability, can
from core.settings import Settings
from core.users import NotAllowed
from core.webinars import Outcome, StatusChange, set_status
from delivery.callbacks import WebinarAction, WebinarOffer, WebinarsRefresh
from locales import N_
from models import User, Webinar, WebinarStatus

router: Final[Routes] = Routes(__name__)

NEED = Capability.WEBINAR_MANAGE_STATUS
WANTED = {
    "start": WebinarStatus.LIVE,
    "stop": WebinarStatus.FINISHED,
    "cancel_yes": WebinarStatus.CANCELLED,
}
DONE = {
    WebinarStatus.LIVE: N_("Started: the rooms are live now."),
    WebinarStatus.FINISHED: N_("Stopped: the webinar is finished."),
    WebinarStatus.CANCELLED: N_("Cancelled: the registrants will be told."),
}


async def runs_webinars(message: Message, user: User) -> bool:
    """The filter of this `/webinars`: those who start and stop webinars."""
    return await can(user, NEED)


@router.message(Command("webinars"), runs_webinars)
async def show_webinars(
    message: Message,
    user: User,
    t: Translate,
    locale: str,
    reply: Reply,
    event_update: Update,
    webinar_panels: ControlPanels,
) -> None:
    screen = await webinar_panels.screen(user, t)
    key = f"webinars:{event_update.update_id}"
    await webinar_panels.send(reply.chat_id, user, locale, key, screen)


@router.callback_query(WebinarsRefresh.filter())
async def refresh(
    query: CallbackQuery,
    user: User,
    t: Translate,
    locale: str,
    reply: Reply,
    event_update: Update,
    webinar_panels: ControlPanels,
) -> None:
    if not await allowed(user, NEED, t, query):
        return
    await _show_in_place(query, user, t, locale, reply, event_update, webinar_panels)
    await query.answer()


@router.callback_query(WebinarAction.filter())
async def control(
    query: CallbackQuery,
    callback_data: WebinarAction,
    user: User,
    t: Translate,
    locale: str,
    reply: Reply,
    event_update: Update,
    hub: SignalHub,
    clock: Clock,
    settings: Settings,
    webinar_panels: ControlPanels,
) -> None:
    if not await allowed(user, NEED, t, query):
        return
    webinar = await Webinar.get_or_none(id=callback_data.webinar_id)
    if webinar is None:
        await query.answer(t(N_("This button is not valid.")), show_alert=True)
        return
    if callback_data.action == "cancel":  # ask first: cancelling tells every registrant
        await _show_in_place(
            query, user, t, locale, reply, event_update, webinar_panels, confirm=webinar.id
        )
        await query.answer(t(N_("Cancel this webinar? Press “Yes, cancel it” to confirm.")))
        return
    try:
        change = await set_status(hub, clock, webinar.id, WANTED[callback_data.action], actor=user)
    except NotAllowed:  # withdrawn between the check and the command
        await query.answer(refusal(t, NEED), show_alert=True)
        return
    await _show_in_place(query, user, t, locale, reply, event_update, webinar_panels)
    text = await _outcome_text(change, WANTED[callback_data.action], user, t, settings)
    await query.answer(text, show_alert=change.outcome is not Outcome.APPLIED)


OFFER_DONE = {
    "open": N_("The form is shown in the room now."),
    "close": N_("The form is hidden."),
}
OFFER_UNCHANGED = {
    "open": N_("The form is shown already."),
    "close": N_("The form was not shown."),
}


@router.callback_query(WebinarOffer.filter())
async def offer(
    query: CallbackQuery,
    callback_data: WebinarOffer,
    user: User,
    t: Translate,
    locale: str,
    reply: Reply,
    event_update: Update,
    hub: SignalHub,
    clock: Clock,
    webinar_panels: ControlPanels,
) -> None:
    """Open offer / Close offer: the room's form, through `core/offers.py`."""
    need = Capability.WEBINAR_MANAGE_CHAT
    if not await allowed(user, need, t, query):
        return
    webinar = await Webinar.get_or_none(id=callback_data.webinar_id)
    if webinar is None:
        await query.answer(t(N_("This button is not valid.")), show_alert=True)
        return
    command = open_offer if callback_data.action == "open" else close_offer
    try:
        changed = await command(hub, clock, webinar.id, actor=user)
    except NotAllowed:  # withdrawn between the check and the command
        await query.answer(refusal(t, need), show_alert=True)
        return
    await _show_in_place(query, user, t, locale, reply, event_update, webinar_panels)
    if changed:
        text = OFFER_DONE[callback_data.action]
    elif (
        callback_data.action == "open"
        and not await Webinar.filter(id=webinar.id, status=WebinarStatus.LIVE).exists()
    ):
        text = N_("The form shows only while the webinar is live.")
    else:
        text = OFFER_UNCHANGED[callback_data.action]
    await query.answer(t(text), show_alert=not changed)


async def _outcome_text(
    change: StatusChange, wanted: WebinarStatus, user: User, t: Translate, settings: Settings
) -> str:
    current = WebinarStatus(change.webinar.status)
    status = t(STATUS_WORDS[current])
    if change.outcome is Outcome.APPLIED:
        return t(DONE[wanted])
    if change.outcome is Outcome.ILLEGAL:
        return t(change.reason).format(status=status)
    at = change.webinar.status_changed_at
    when = local_time(at, await zone_of(user, settings.timezone)) if at else "—"
    return t(N_("It is {status} already: {who} did it at {when}.")).format(
        status=status, who=person_name(change.by, t), when=when
    )


async def _show_in_place(
    query: CallbackQuery,
    user: User,
    t: Translate,
    locale: str,
    reply: Reply,
    event_update: Update,
    panels: ControlPanels,
    *,
    confirm: int = 0,
) -> None:
    """The list again in the pressed message (a new message if that one is gone)."""
    screen = await panels.screen(user, t, confirm_cancel=confirm)
    key = f"webinars:{event_update.update_id}"
    if query.message is None:
        await panels.send(reply.chat_id, user, locale, key, screen)
        return
    await panels.edit(reply.chat_id, query.message.message_id, user, locale, screen, key)
