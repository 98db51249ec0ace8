"""Consumers of the funnel's events: partner notices, starting and waking scenarios."""

from __future__ import annotations

import html
from functools import partial

from core.events import (
    CoreLeadBound,
    CoreLeadCreated,
    CoreLeadUnsubscribed,
    ScenarioStart,
    TelegramChatUnreachable,
)
from core.hub import BatchHandler, Delivery, SignalHub
from core.present import short_time, utm_text
from delivery.outbox import Button, OutgoingMessage, enqueue_many
from handlers.deps import Deps
from handlers.partner_webinar_notices import webinar_line, webinars_of_first_touch
from locales import N_
from models import LeadEntry, Priority, Role, User


class FunnelConsumers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscribe(self, hub: SignalHub) -> None:
        # The subscriber's name is stored with each delivery: renaming one is a migration.
        # A burst of leads (an ad campaign) is handled in batches: one transaction each.
        batches: dict[object, BatchHandler] = {
            self.notify_partner_of_new_lead: self.notify_partners_of_new_leads,
            self.start_welcome_for_web_form_lead: self.start_welcome_for_web_form_leads,
            self.run_scenario: self.run_scenarios,
        }
        for event, handler in (
            ("core_lead_created", self.notify_partner_of_new_lead),
            ("core_lead_created", self.start_welcome_for_web_form_lead),
            ("scenario_start", self.run_scenario),
            ("core_lead_bound", self.wake_scenarios_of_bound_lead),
            ("telegram_chat_unreachable", self.cancel_scenarios_of_unreachable_lead),
            ("core_lead_unsubscribed", self.cancel_scenarios_of_unsubscribed_lead),
        ):
            hub.subscribe(event, handler, name=handler.__name__, batch=batches.get(handler))

    async def notify_partner_of_new_lead(self, event: CoreLeadCreated, d: Delivery) -> None:
        """Tell the referring partner (or, with none, the admins) about a new lead at once."""
        await self.notify_partners_of_new_leads([(event, d)])

    async def notify_partners_of_new_leads(
        self, work: list[tuple[CoreLeadCreated, Delivery]]
    ) -> None:
        """`notify_partner_of_new_lead` for many leads: a few queries, one insert, one commit."""
        leads = {
            lead.id: lead
            for lead in await LeadEntry.filter(id__in=[event.lead_id for event, _ in work])
        }
        partner_ids = {lead.partner_id for lead in leads.values() if lead.partner_id}
        partners = (
            {u.id: u for u in await User.filter(id__in=list(partner_ids))} if partner_ids else {}
        )
        admins = await self._admin_chats()
        webinars = await webinars_of_first_touch(list(leads))  # one notice for both facts
        notices: list[tuple[str, OutgoingMessage]] = []
        lead_ids: dict[str, int] = {}
        lines: dict[tuple[int, str], str] = {}  # a campaign's leads share one webinar's line
        for event, d in work:
            lead = leads[event.lead_id]
            webinar = webinars.get(lead.id)
            for user_chat, locale in self._recipients_of(lead, partners, admins):
                key = f"{d.key}:{user_chat}"
                line = None
                if webinar is not None:
                    if (webinar.id, locale) not in lines:
                        t = partial(self.deps.texts, locale)
                        lines[webinar.id, locale] = webinar_line(webinar, t, locale)
                    line = lines[webinar.id, locale]
                notices.append((key, self._lead_notice(lead, user_chat, locale, line)))
                lead_ids[key] = lead.id
        async with self.deps.hub.transaction() as tx:
            # One insert for the batch's notices; a key queued before (a batch redone
            # after a crash) is skipped, as `enqueue` would.
            await enqueue_many(
                tx.connection,
                self.deps.clock,
                notices,
                priority=Priority.CRITICAL,
                lead_ids=lead_ids,
            )

    async def start_welcome_for_web_form_lead(self, event: CoreLeadCreated, d: Delivery) -> None:
        """A new web_form lead starts the `welcome` scenario (scenario_start)."""
        await self.start_welcome_for_web_form_leads([(event, d)])

    async def start_welcome_for_web_form_leads(
        self, work: list[tuple[CoreLeadCreated, Delivery]]
    ) -> None:
        starts = [
            ScenarioStart(timestamp=event.timestamp, scenario="welcome", lead_id=event.lead_id)
            for event, _ in work
            if event.lead_source == "web_form"
        ]
        if starts:
            async with self.deps.hub.transaction() as tx:
                await tx.publish_many(starts)

    async def run_scenario(self, event: ScenarioStart, d: Delivery) -> None:
        """Create the stored run of the scenario (once per lead and subject)."""
        await self.deps.engine.start_run(event.scenario, event.lead_id, subject=event.subject)

    async def run_scenarios(self, work: list[tuple[ScenarioStart, Delivery]]) -> None:
        await self.deps.engine.start_runs(
            [(event.scenario, event.lead_id, event.subject) for event, _ in work]
        )

    async def wake_scenarios_of_bound_lead(self, event: CoreLeadBound, d: Delivery) -> None:
        """Messages that waited for the lead's chat go now."""
        await self.deps.engine.wake(event.lead_id)

    async def cancel_scenarios_of_unreachable_lead(
        self, event: TelegramChatUnreachable, d: Delivery
    ) -> None:
        """A lead who blocked the bot gets no more scenario steps."""
        for lead in await LeadEntry.filter(chat_id=event.chat_id).only("id"):
            await self.deps.engine.cancel(lead.id, reason="the chat blocked the bot")

    async def cancel_scenarios_of_unsubscribed_lead(
        self, event: CoreLeadUnsubscribed, d: Delivery
    ) -> None:
        """A lead who sent /stop gets no more scenario steps."""
        await self.deps.engine.cancel(event.lead_id, reason="the lead sent /stop")

    # ---- the notice ---------------------------------------------------------------------

    def _recipients_of(
        self, lead: LeadEntry, partners: dict[int, User], admins: list[tuple[int, str]]
    ) -> list[tuple[int, str]]:
        """The lead's partner's chat, or, with none (or none reachable), the admins'."""
        partner = partners.get(lead.partner_id) if lead.partner_id else None
        if partner is not None and partner.chat_id is not None:
            return [(partner.chat_id, self.deps.texts.pick(partner.locale, partner.language_code))]
        return admins

    async def _admin_chats(self) -> list[tuple[int, str]]:
        texts = self.deps.texts
        admins = await User.filter(role=Role.ADMIN, chat_id__not_isnull=True)
        chats = {a.chat_id: texts.pick(a.locale, a.language_code) for a in admins if a.chat_id}
        for admin_id in self.deps.settings.admin_ids:  # private chat id == user id
            chats.setdefault(admin_id, texts.default)
        return sorted(chats.items())

    def _lead_notice(
        self, lead: LeadEntry, chat_id: int, locale: str, webinar_text: str | None
    ) -> OutgoingMessage:
        def t(msgid: str) -> str:
            return self.deps.texts(locale, msgid)

        zone = self.deps.settings.timezone
        utm = utm_text(lead.utm)
        lines = [
            f"🆕 <b>{html.escape(t(N_('New lead')))}</b>",
            f"{html.escape(t(N_('Name')))}: <b>{html.escape(lead.name or '—')}</b>",
            f"{html.escape(t(N_('Phone')))}: {html.escape(lead.phone or '—')}",
            f"{html.escape(t(N_('E-mail')))}: {html.escape(lead.email or '—')}",
            f"{html.escape(t(N_('Source')))}: {html.escape(lead.lead_source)}",
        ]
        if utm:
            lines.append(f"UTM: {html.escape(utm)}")
        if lead.ref and lead.partner_id is None:
            lines.append(f"{html.escape(t(N_('Referral code')))}: {html.escape(lead.ref)}")
        when = short_time(lead.first_touch_at, zone)
        lines.append(f"{html.escape(t(N_('Time')))}: {when} ({zone})")
        if webinar_text is not None:  # the webinar the lead's first form registered for
            lines.append(webinar_text)
        # Imported here: callback data is aiogram's, and the command line, which builds
        # this hub's subscriptions too, must start without importing aiogram (~7 s).
        from delivery.callbacks import LeadCard

        button = Button(t(N_("Open lead card")), callback=LeadCard(lead_id=lead.id).pack())
        return OutgoingMessage(chat_id=chat_id, text="\n".join(lines), buttons=((button,),))
