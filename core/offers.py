"""The room's call-to-action form: the speaker's offer ("apply to become a partner").

A speaker opens and closes it (`open_offer` / `close_offer`: from the room, or the bot's
`/webinars`), which every open room shows at once (the state it is pushed carries
`offer`). A lead sends it once per webinar (`submit_form`): `client_webinar_form_submitted`
is stored with the registration's `form_submitted_at`, and its consumer applies through
`core/applications.apply(via="room")` when the lead is a Telegram user.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.actors import done_by
from core.clock import Clock
from core.events import ClientWebinarFormSubmitted, CoreWebinarOfferClosed, CoreWebinarOfferOpened
from core.hub import SignalHub
from core.roles import Capability, can
from core.users import NotAllowed
from core.visible import visible_text
from models import User, Webinar, WebinarRegistration, WebinarStatus

TEXT_MAX = 1000


async def _set_offer(
    hub: SignalHub, clock: Clock, webinar_id: int, is_open: bool, actor: User | None
) -> bool:
    if actor is not None and not await can(actor, Capability.WEBINAR_MANAGE_CHAT):
        raise NotAllowed(Capability.WEBINAR_MANAGE_CHAT)
    now = clock.now()
    async with hub.transaction() as tx:
        query = Webinar.filter(id=webinar_id, offer_open=not is_open)
        if is_open:  # shown only while the webinar is on
            query = query.filter(status=WebinarStatus.LIVE)
        taken = await query.using_db(tx.connection).update(offer_open=is_open, updated_at=now)
        if taken:
            kind = CoreWebinarOfferOpened if is_open else CoreWebinarOfferClosed
            await tx.publish(kind(timestamp=int(now), webinar_id=str(webinar_id), **done_by(actor)))
    return bool(taken)


async def open_offer(hub: SignalHub, clock: Clock, webinar_id: int, *, actor: User | None) -> bool:
    """Show the form in every open room of a live webinar (`webinar_manage_chat`); False
    when it was shown already or the webinar is not live."""
    return await _set_offer(hub, clock, webinar_id, True, actor)


async def close_offer(hub: SignalHub, clock: Clock, webinar_id: int, *, actor: User | None) -> bool:
    """Hide the form again; False when it was not shown."""
    return await _set_offer(hub, clock, webinar_id, False, actor)


class Sent(StrEnum):
    SENT = "sent"
    ALREADY = "already"  # this lead sent it before: nothing new
    NOT_OPEN = "not_open"  # the offer is not shown (closed, or the webinar is not live)
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class FormFields:
    text: str = ""


async def submit_form(
    hub: SignalHub, clock: Clock, webinar: Webinar, lead_id: int, form: FormFields
) -> Sent:
    """A lead sends the form (once per webinar): `client_webinar_form_submitted`."""
    text = visible_text(form.text).strip()
    if len(text) > TEXT_MAX:
        return Sent.TOO_LONG
    now = clock.now()
    async with hub.transaction() as tx:
        conn = tx.connection
        shown = (
            await Webinar.filter(id=webinar.id, offer_open=True, status=WebinarStatus.LIVE)
            .using_db(conn)
            .exists()
        )
        if not shown:
            return Sent.NOT_OPEN
        first = (
            await WebinarRegistration.filter(
                webinar_id=webinar.id, lead_id=lead_id, form_submitted_at__isnull=True
            )
            .using_db(conn)
            .update(form_submitted_at=now)
        )
        if not first:
            registered = (
                await WebinarRegistration.filter(webinar_id=webinar.id, lead_id=lead_id)
                .using_db(conn)
                .exists()
            )
            return Sent.ALREADY if registered else Sent.NOT_OPEN
        await tx.publish(
            ClientWebinarFormSubmitted(
                timestamp=int(now),
                webinar_id=webinar.webinar_id,
                lead_id=lead_id,
                fields={"text": text},
            )
        )
    return Sent.SENT
