"""What a partner is told about their leads and webinars: a lead registered, a lead came.

One message per fact. A lead whose very first form registered them for a webinar is one
fact, "a new lead, registered for this webinar": the new-lead notice (`handlers/funnel.py`)
names the webinar (`webinars_of_first_touch`), and no separate registration notice goes.
A lead that already existed registering, a lead coming into the room, and a lead sending
the room's form (the speaker's offer; with what they wrote) are a notice each, keyed by
webinar and lead, so a replay or a second entry sends nothing.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from core.events import ClientWebinarEntered, ClientWebinarFormSubmitted, ClientWebinarRegistered
from core.hub import BatchHandler, Delivery, SignalHub
from delivery.outbox import Button, OutgoingMessage, enqueue
from handlers.deps import Deps
from handlers.webinar_notices import when, zone_of
from locales import N_
from models import LeadEntry, LeadTouch, User, Webinar, WebinarRegistration


async def webinars_of_first_touch(lead_ids: list[int]) -> dict[int, Webinar]:
    """The webinar the form that created each lead registered them for, for the leads
    whose form did: three queries however many leads."""
    first: dict[int, str | None] = {}
    touches = (
        await LeadTouch.filter(lead_id__in=lead_ids, matched_by=None)
        .order_by("id")
        .values_list("lead_id", "webinar_id")
    )
    for lead_id, webinar_id in touches:
        first.setdefault(lead_id, webinar_id)
    wanted = {lead: int(w) for lead, w in first.items() if w and w.isdigit()}
    if not wanted:
        return {}
    registered = {
        (lead, webinar)
        for lead, webinar in await WebinarRegistration.filter(
            lead_id__in=list(wanted), webinar_id__in=list(set(wanted.values()))
        ).values_list("lead_id", "webinar_id")
    }  # not registered: the webinar had closed, the form only collected the lead
    webinars = {w.id: w for w in await Webinar.filter(id__in=list(set(wanted.values())))}
    return {
        lead: webinars[w] for lead, w in wanted.items() if (lead, w) in registered and w in webinars
    }


def webinar_line(webinar: Webinar, t: Callable[[str], str], locale: str) -> str:
    """«Webinar: <title>, <start in the webinar's zone>» for a partner's notice."""
    zone, _ = zone_of(None, webinar.tz)
    start = f"{when(webinar.starts_at, zone, locale)} ({zone.key})"
    return (
        f"{html.escape(t(N_('Webinar')))}: <b>{html.escape(webinar.title)}</b>, "
        f"{html.escape(start)}"
    )


class Translate:
    """`t(msgid)` in one locale."""

    def __init__(self, deps: Deps, locale: str) -> None:
        self._deps = deps
        self.locale = locale

    def __call__(self, msgid: str) -> str:
        return self._deps.texts(self.locale, msgid)


class PartnerWebinarConsumers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscribe(self, hub: SignalHub) -> None:
        # The subscriber's name is stored with each delivery: renaming one is a migration.
        # A burst of registrations (an ad campaign) is handled in batches.
        batches: dict[object, BatchHandler] = {
            self.tell_partner_lead_registered: self.tell_partners_leads_registered
        }
        for event, handler in (
            ("client_webinar_registered", self.tell_partner_lead_registered),
            ("client_webinar_entered", self.tell_partner_lead_came),
            ("client_webinar_form_submitted", self.tell_partner_lead_sent_form),
        ):
            hub.subscribe(event, handler, name=handler.__name__, batch=batches.get(handler))

    async def tell_partner_lead_registered(
        self, event: ClientWebinarRegistered, d: Delivery
    ) -> None:
        """The lead's partner hears of the registration (a new lead's is in its notice)."""
        await self.tell_partners_leads_registered([(event, d)])

    async def tell_partners_leads_registered(
        self, work: list[tuple[ClientWebinarRegistered, Delivery]]
    ) -> None:
        """`tell_partner_lead_registered` for a burst of registrations from the form: the
        first touches read at once, and most of them are new leads, whose notice said it."""
        firsts = await webinars_of_first_touch([event.lead_id for event, _ in work])
        for event, _ in work:
            webinar = firsts.get(event.lead_id)
            if webinar is not None and webinar.webinar_id == event.webinar_id:
                continue  # the new-lead notice says it
            headline = N_("Your lead registered for a webinar")
            await self._notify(event.lead_id, event.webinar_id, "registered", "📝 ", headline)

    async def tell_partner_lead_came(self, event: ClientWebinarEntered, d: Delivery) -> None:
        """The lead's partner hears that the lead came into the room (once per webinar)."""
        headline = N_("Your lead came to the webinar room")
        await self._notify(event.lead_id, event.webinar_id, "entered", "👀 ", headline)

    async def tell_partner_lead_sent_form(
        self, event: ClientWebinarFormSubmitted, d: Delivery
    ) -> None:
        """The lead's partner hears that the lead sent the room's form, and what it said."""
        headline = N_("Your lead sent the form in the webinar room")
        text = str(event.fields.get("text", ""))
        await self._notify(event.lead_id, event.webinar_id, "form", "🙋 ", headline, said=text)

    async def _notify(
        self,
        lead_id: int,
        webinar_id: str,
        fact: str,
        icon: str,
        headline: str,
        *,
        said: str = "",
    ) -> None:
        """One notice to the lead's partner (if they have a chat), keyed by fact and lead."""
        lead = await LeadEntry.get_or_none(id=lead_id)
        webinar = await Webinar.get_or_none(id=int(webinar_id))
        if lead is None or webinar is None or lead.partner_id is None:
            return
        partner = await User.get_or_none(id=lead.partner_id)
        if partner is None or partner.chat_id is None:
            return
        t = Translate(self.deps, self.deps.texts.pick(partner.locale, partner.language_code))
        lines = [
            f"{icon}<b>{html.escape(t(headline))}</b>",
            f"{html.escape(t(N_('Name')))}: <b>{html.escape(lead.name or '—')}</b>",
            webinar_line(webinar, t, t.locale),
        ]
        if said:
            lines.append(f"{html.escape(t(N_('Message')))}: {html.escape(said)}")
        # Imported here: callback data is aiogram's, and the command line, which builds
        # this hub's subscriptions too, must start without importing aiogram (~7 s).
        from delivery.callbacks import LeadCard

        button = Button(t(N_("Open lead card")), callback=LeadCard(lead_id=lead.id).pack())
        message = OutgoingMessage(
            chat_id=partner.chat_id, text="\n".join(lines), buttons=((button,),)
        )
        async with self.deps.hub.transaction() as tx:
            await enqueue(
                tx.connection,
                self.deps.clock,
                key=f"partner_{fact}:{webinar.id}:{lead.id}:{partner.chat_id}",
                message=message,
                lead_id=lead.id,
            )
