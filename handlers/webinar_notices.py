"""What a registered lead is told in Telegram about their webinar: the confirmation with
their personal room button, a cancellation, a new start time.

A lead's chat is known only once they open the bot (`core_lead_bound`), which may come
before or after the registration. Both events lead to one function, `tell_registrant`,
that says what is true now (open: the confirmation; cancelled: the cancellation), keyed
by webinar, lead and chat: whichever event comes first sends it, the other (or a replay)
finds the key taken. A rescheduled start is told once per change (keyed by the change).
Texts are rendered in the lead's language and time zone when they are queued.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from tortoise.backends.base.client import BaseDBAsyncClient

from core.events import (
    ClientWebinarRegistered,
    CoreLeadBound,
    CoreWebinarSetStatus,
    CoreWebinarUpdated,
)
from core.hub import BatchHandler, Delivery, SignalHub
from core.links import Links
from delivery.outbox import Button, OutgoingMessage, enqueue, enqueue_many
from handlers.deps import Deps
from locales import N_
from models import LeadEntry, User, Webinar, WebinarRegistration, WebinarStatus

OPEN = (WebinarStatus.SCHEDULED, WebinarStatus.LIVE)
PAGE = 500  # registrants read and queued per transaction when many are told at once


def zone_of(name: str | None, fallback: str) -> tuple[ZoneInfo, bool]:
    """The zone `name` (a lead's, from their browser), else `fallback`; True if `name`."""
    if name:
        try:
            return ZoneInfo(name), True
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(fallback), False


def when(at: float, zone: ZoneInfo, locale: str) -> str:
    """`at` as a person reads it in `zone`: «среда, 20 января 2027, 19:00»."""
    local = datetime.fromtimestamp(at, UTC).astimezone(zone)
    return format_datetime(local, "EEEE, d MMMM y, HH:mm", tzinfo=zone, locale=locale)


def local_time(
    at: float, webinar: Webinar, lead_tz: str | None, t: Callable[[str], str], locale: str
) -> str:
    """`at` in the lead's zone (else the webinar's), saying which zone it is; escaped."""
    zone, theirs = zone_of(lead_tz, webinar.tz)
    note = t(N_("your time zone")) if theirs else t(N_("the webinar's time zone"))
    return html.escape(f"{when(at, zone, locale)} ({zone.key}, {note})")


async def registrations_of(user_id: int) -> list[tuple[Webinar, LeadEntry]]:
    """The webinars the leads of this Telegram user registered for, and which lead:
    live first, then the coming ones by start, then the past ones, latest first."""
    leads = {lead.id: lead for lead in await LeadEntry.filter(user_id=user_id)}
    if not leads:
        return []
    rows = await WebinarRegistration.filter(lead_id__in=list(leads)).order_by("id")
    webinars = {w.id: w for w in await Webinar.filter(id__in=[r.webinar_id for r in rows])}
    found = {r.webinar_id: (webinars[r.webinar_id], leads[r.lead_id]) for r in reversed(rows)}
    rank = {WebinarStatus.LIVE: 0, WebinarStatus.SCHEDULED: 1}

    def order(item: tuple[Webinar, LeadEntry]) -> tuple[int, float]:
        webinar = item[0]
        position = rank.get(WebinarStatus(webinar.status), 2)
        return position, webinar.starts_at if position < 2 else -webinar.starts_at

    return sorted(found.values(), key=order)


def room_button(links: Links, webinar: Webinar, lead_id: int, chat_id: int, label: str) -> Button:
    """The lead's way into the room: a Mini App button where Telegram allows one (a private
    chat, an HTTPS address; the sandbox takes this machine's HTTP as Telegram's test
    environment does), else their personal link (`/t/...`, which records the entry)."""
    room = links.room_url(webinar)
    if chat_id > 0 and (room.startswith("https://") or links.sandbox):
        return Button(label, web_app=room)
    return Button(label, url=links.room_link(webinar, lead_id))


class WebinarNoticeConsumers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscribe(self, hub: SignalHub) -> None:
        # The subscriber's name is stored with each delivery: renaming one is a migration.
        # A burst of registrations (an ad campaign) is handled in batches.
        batches: dict[object, BatchHandler] = {
            self.confirm_webinar_registration: self.confirm_webinar_registrations
        }
        for event, handler in (
            ("client_webinar_registered", self.confirm_webinar_registration),
            ("core_lead_bound", self.confirm_webinar_registrations_of_bound_lead),
            ("core_webinar_set_status", self.tell_registrants_of_cancellation),
            ("core_webinar_updated", self.tell_registrants_of_new_time),
        ):
            hub.subscribe(event, handler, name=handler.__name__, batch=batches.get(handler))

    async def confirm_webinar_registration(
        self, event: ClientWebinarRegistered, d: Delivery
    ) -> None:
        """The lead gets the date, time and their room button (at binding, if not bound)."""
        await self.confirm_webinar_registrations([(event, d)])

    async def confirm_webinar_registrations(
        self, work: list[tuple[ClientWebinarRegistered, Delivery]]
    ) -> None:
        """A burst of registrations: leads and webinars read at once, the confirmations of
        those with a chat queued in one transaction (a form's new leads have none yet)."""
        leads = {
            lead.id: lead
            for lead in await LeadEntry.filter(id__in=[event.lead_id for event, _ in work])
        }
        wanted = {int(event.webinar_id) for event, _ in work}
        webinars = {w.id: w for w in await Webinar.filter(id__in=list(wanted))}
        todo = [
            (webinars[int(event.webinar_id)], leads[event.lead_id])
            for event, _ in work
            if event.lead_id in leads
            and int(event.webinar_id) in webinars
            and leads[event.lead_id].chat_id is not None  # else `core_lead_bound` sends it
        ]
        if not todo:
            return
        async with self.deps.hub.transaction() as tx:
            for webinar, lead in todo:
                await self.tell_registrant(tx.connection, webinar, lead)

    async def confirm_webinar_registrations_of_bound_lead(
        self, event: CoreLeadBound, d: Delivery
    ) -> None:
        """Confirmations (or cancellations) that waited for the lead's chat go now."""
        lead = await LeadEntry.get_or_none(id=event.lead_id)
        if lead is None or lead.chat_id is None:
            return
        ids = await WebinarRegistration.filter(lead_id=lead.id).values_list("webinar_id", flat=True)
        webinars = await Webinar.filter(id__in=list(ids)).order_by("starts_at", "id")
        async with self.deps.hub.transaction() as tx:
            for webinar in webinars:
                await self.tell_registrant(tx.connection, webinar, lead)

    async def tell_registrants_of_cancellation(
        self, event: CoreWebinarSetStatus, d: Delivery
    ) -> None:
        """Every registrant with a chat is told the webinar is cancelled, once each."""
        if event.status != WebinarStatus.CANCELLED.value:
            return
        webinar = await Webinar.get_or_none(id=int(event.webinar_id))
        if webinar is None:
            return
        async for leads in self._registrants(webinar):
            locales = await self._locales(leads)
            messages = [
                (_cancelled_key(webinar, lead), self._cancelled(webinar, lead, locales[lead.id]))
                for lead in leads
            ]
            await self._queue_many(messages)

    async def tell_registrants_of_new_time(self, event: CoreWebinarUpdated, d: Delivery) -> None:
        """A new start time reaches every registrant with a chat, once per change."""
        if event.previous_starts_at is None or event.previous_starts_at == event.starts_at:
            return
        webinar = await Webinar.get_or_none(id=int(event.webinar_id))
        if webinar is None or WebinarStatus(webinar.status) not in OPEN:
            return
        async for leads in self._registrants(webinar):
            locales = await self._locales(leads)
            messages = [
                (
                    _moved_key(webinar, lead, event),
                    self._moved(webinar, lead, event, locales[lead.id]),
                )
                for lead in leads
            ]
            await self._queue_many(messages)

    # ---- one registrant ------------------------------------------------------------------

    async def tell_registrant(
        self, connection: BaseDBAsyncClient, webinar: Webinar, lead: LeadEntry
    ) -> None:
        """What is true of `webinar` now, told to `lead` once (in `connection`'s transaction)."""
        status = WebinarStatus(webinar.status)
        if lead.chat_id is None or status is WebinarStatus.FINISHED:
            return
        locale = await self.lead_locale(lead, connection)
        if status is WebinarStatus.CANCELLED:
            key, message = _cancelled_key(webinar, lead), self._cancelled(webinar, lead, locale)
        else:
            key = f"webinar_confirmed:{webinar.id}:{lead.id}:{lead.chat_id}"
            message = self._confirmation(webinar, lead, locale)
        await enqueue(connection, self.deps.clock, key=key, message=message, lead_id=lead.id)

    async def lead_locale(self, lead: LeadEntry, db: BaseDBAsyncClient | None = None) -> str:
        """The user's choice, else Telegram's language, else the lead's, else the default."""
        user = await User.filter(id=lead.user_id).using_db(db).first() if lead.user_id else None
        return self._pick(user, lead)

    # ---- the texts ----------------------------------------------------------------------

    def _time(self, at: float, webinar: Webinar, lead: LeadEntry, locale: str) -> str:
        return local_time(at, webinar, lead.tz, self._t(locale), locale)

    def _confirmation(self, webinar: Webinar, lead: LeadEntry, locale: str) -> OutgoingMessage:
        t = self._t(locale)
        lines = [
            "✅ " + html.escape(t(N_("You are registered for the webinar"))),
            f"<b>{html.escape(webinar.title)}</b>",
            "",
            "🗓 " + self._time(webinar.starts_at, webinar, lead, locale),
            "",
            html.escape(
                t(
                    N_(
                        "The button below is your personal entrance to the room: it works "
                        "only for you, so please do not pass it on."
                    )
                )
            ),
        ]
        return self._message(webinar, lead, "\n".join(lines), locale)

    def _cancelled(self, webinar: Webinar, lead: LeadEntry, locale: str) -> OutgoingMessage:
        t = self._t(locale)
        lines = [
            "❌ " + html.escape(t(N_("The webinar is cancelled"))),
            f"<b>{html.escape(webinar.title)}</b>",
            "🗓 <s>" + self._time(webinar.starts_at, webinar, lead, locale) + "</s>",
            "",
            html.escape(t(N_("We are sorry for the change of plans."))),
        ]
        assert lead.chat_id is not None
        return OutgoingMessage(chat_id=lead.chat_id, text="\n".join(lines))

    def _moved(
        self, webinar: Webinar, lead: LeadEntry, event: CoreWebinarUpdated, locale: str
    ) -> OutgoingMessage:
        t = self._t(locale)
        previous = float(event.previous_starts_at or 0)
        lines = [
            "🕒 " + html.escape(t(N_("The webinar has a new time"))),
            f"<b>{html.escape(webinar.title)}</b>",
            "",
            "🗓 " + self._time(webinar.starts_at, webinar, lead, locale),
            f"{html.escape(t(N_('Was:')))} <s>{self._time(previous, webinar, lead, locale)}</s>",
        ]
        return self._message(webinar, lead, "\n".join(lines), locale)

    def _message(
        self, webinar: Webinar, lead: LeadEntry, text: str, locale: str
    ) -> OutgoingMessage:
        assert lead.chat_id is not None
        label = self._t(locale)(N_("Enter the webinar room"))
        button = room_button(self.deps.links, webinar, lead.id, lead.chat_id, label)
        return OutgoingMessage(chat_id=lead.chat_id, text=text, buttons=((button,),))

    # ---- helpers ------------------------------------------------------------------------

    def _t(self, locale: str) -> Callable[[str], str]:
        texts = self.deps.texts
        return lambda msgid: texts(locale, msgid)

    def _pick(self, user: User | None, lead: LeadEntry) -> str:
        return self.deps.texts.pick(
            user.locale if user else None, user.language_code if user else None, lead.locale
        )

    async def _locales(self, leads: list[LeadEntry]) -> dict[int, str]:
        ids = [lead.user_id for lead in leads if lead.user_id is not None]
        users = {u.id: u for u in await User.filter(id__in=ids)} if ids else {}
        return {
            lead.id: self._pick(users.get(lead.user_id) if lead.user_id else None, lead)
            for lead in leads
        }

    async def _registrants(self, webinar: Webinar) -> AsyncIterator[list[LeadEntry]]:
        """The registrants of `webinar` who have a chat, a page of leads at a time."""
        after = 0
        while True:
            leads = (
                await LeadEntry.filter(
                    webinar_registrations__webinar_id=webinar.id,
                    chat_id__not_isnull=True,
                    id__gt=after,
                )
                .order_by("id")
                .limit(PAGE)
            )
            if not leads:
                return
            yield leads
            after = leads[-1].id

    async def _queue_many(self, messages: Iterable[tuple[str, OutgoingMessage]]) -> None:
        async with self.deps.hub.transaction() as tx:
            await enqueue_many(tx.connection, self.deps.clock, messages)


def _moved_key(webinar: Webinar, lead: LeadEntry, event: CoreWebinarUpdated) -> str:
    # By what changed and when, not by the event's id: the same change published twice
    # (a retried command) is told once.
    change = f"{event.previous_starts_at}-{event.starts_at}@{event.timestamp}"
    return f"webinar_moved:{webinar.id}:{lead.id}:{lead.chat_id}:{change}"


def _cancelled_key(webinar: Webinar, lead: LeadEntry) -> str:
    return f"webinar_cancelled:{webinar.id}:{lead.id}:{lead.chat_id}"
