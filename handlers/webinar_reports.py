"""After a webinar: each partner's notice of their leads' attendance, and the speaker's summary.

Trigger: `client_webinar_attendance_classified`. The attendance service classifies every
registrant once and emits no webinar-level "done" event, so each classification asks
whether it was the last one (as many classifications as registrations); the one that
completes the webinar sends everything. Each partner gets ONE message per webinar: the
figures of their own leads and who attended for how long (not one message per lead); the
speaker gets the figures of everyone. Messages are keyed per webinar and recipient: a
replayed classification, or two last ones at once, queue nothing twice.
"""

from __future__ import annotations

import html

from core.attendance import (
    LeadResult,
    WebinarFigures,
    classification_complete,
    figures,
    results,
)
from core.events import ClientWebinarAttendanceClassified
from core.hub import Delivery, SignalHub
from delivery.outbox import OutgoingMessage, enqueue
from handlers.deps import Deps
from locales import N_
from models import Priority, User, Webinar

LIST_MAX = 60  # lines of leads in one partner's notice; the rest are counted


class WebinarReports:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscribe(self, hub: SignalHub) -> None:
        # The subscriber's name is stored with each delivery: renaming one is a migration.
        hub.subscribe(
            "client_webinar_attendance_classified",
            self.report_when_every_registrant_is_classified,
            name="report_when_every_registrant_is_classified",
        )

    async def report_when_every_registrant_is_classified(
        self, event: ClientWebinarAttendanceClassified, d: Delivery
    ) -> None:
        """The last classification of a webinar: partners' notices and the speaker's summary."""
        if not event.webinar_id.isdigit():
            return
        webinar = await Webinar.get_or_none(id=int(event.webinar_id))
        if webinar is None or not await classification_complete(webinar.id):
            return
        everyone = await results(webinar.id)
        by_partner: dict[int, list[LeadResult]] = {}
        for result in everyone:
            if result.partner_id is not None:
                by_partner.setdefault(result.partner_id, []).append(result)
        users = {
            u.id: u
            for u in await User.filter(
                id__in=[*by_partner, *([webinar.speaker_id] if webinar.speaker_id else [])],
                chat_id__not_isnull=True,
            )
        }
        messages: list[tuple[str, OutgoingMessage]] = []
        for partner_id, leads in sorted(by_partner.items()):
            partner = users.get(partner_id)
            if partner is not None and partner.chat_id is not None:
                text = self._partner_text(webinar, await figures(webinar.id, leads), partner)
                key = f"webinar_report:{webinar.id}:partner:{partner_id}"
                messages.append((key, OutgoingMessage(partner.chat_id, text)))
        speaker = users.get(webinar.speaker_id) if webinar.speaker_id else None
        if speaker is not None and speaker.chat_id is not None:
            text = self._speaker_text(webinar, await figures(webinar.id, everyone), speaker)
            key = f"webinar_report:{webinar.id}:speaker:{speaker.id}"
            messages.append((key, OutgoingMessage(speaker.chat_id, text)))
        async with self.deps.hub.transaction() as tx:
            for key, message in messages:
                await enqueue(
                    tx.connection,
                    self.deps.clock,
                    key=key,
                    message=message,
                    priority=Priority.NORMAL,
                )

    # ---- the texts ------------------------------------------------------------------------

    def _locale(self, user: User) -> str:
        return self.deps.texts.pick(user.locale, user.language_code)

    def _figures(self, locale: str, f: WebinarFigures) -> list[str]:
        def t(msgid: str) -> str:
            return html.escape(self.deps.texts(locale, msgid))

        minutes = self.deps.texts(locale, N_("{n} min")).format(n=f.average_minutes)
        return [
            f"{t(N_('Registered'))}: <b>{f.registered}</b>",
            f"{t(N_('Entered the room'))}: <b>{f.entered}</b>",
            f"{t(N_('Attended'))}: <b>{f.attended}</b>",
            f"{t(N_('Did not attend'))}: <b>{f.not_attended}</b>",
            f"{t(N_('Average time in the room'))}: <b>{html.escape(minutes)}</b>",
            f"{t(N_('Forms sent'))}: <b>{f.forms}</b>",
        ]

    def _speaker_text(self, webinar: Webinar, f: WebinarFigures, speaker: User) -> str:
        locale = self._locale(speaker)
        head = self.deps.texts(locale, N_("📊 The webinar «{title}» is over: the summary"))
        title = f"<b>{head.format(title=html.escape(webinar.title))}</b>"
        return "\n".join([title, "", *self._figures(locale, f)])

    def _partner_text(self, webinar: Webinar, f: WebinarFigures, partner: User) -> str:
        locale = self._locale(partner)
        head = self.deps.texts(locale, N_("📊 The webinar «{title}»: your leads"))
        lines = [f"<b>{head.format(title=html.escape(webinar.title))}</b>", ""]
        lines += self._figures(locale, f)
        lines.append("")
        for result in f.leads[:LIST_MAX]:
            mark = "✅" if result.attendance == "attended" else "❌"
            minutes = self.deps.texts(locale, N_("{n} min")).format(n=round(result.seconds / 60))
            name = html.escape(result.name or "—")
            lines.append(f"{mark} {name}: {html.escape(minutes)}")
        if len(f.leads) > LIST_MAX:
            more = self.deps.texts(locale, N_("… and {count} more"))
            lines.append(html.escape(more.format(count=len(f.leads) - LIST_MAX)))
        return "\n".join(lines)
