"""Consumers of applications and profile changes: notices with review buttons to those
who may decide, and the answers to the people concerned.

Every message is keyed by the delivery (`{d.key}:{chat}`), so a retried consumer sends
nothing twice.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Literal

from core.applications import reviewers
from core.events import (
    CoreProfileChangeDecided,
    CoreProfileChangeRequested,
    CoreUserApplicationDecided,
    CoreUserApplied,
)
from core.hub import Delivery, SignalHub
from core.present import person
from core.roles import Capability
from delivery.outbox import Button, Buttons, Outgoing, OutgoingMessage, OutgoingPhoto, enqueue
from handlers.deps import Deps
from locales import N_
from models import Application, LeadEntry, Priority, ProfileChange, Review, User

Translate = Callable[[str], str]


def review_buttons(kind: Literal["application", "profile"], item_id: int, t: Translate) -> Buttons:
    # Imported here: callback data is aiogram's, and the command line, which builds
    # this hub's subscriptions too, must start without importing aiogram (~7 s).
    from delivery.callbacks import ApplicationVerdict, ProfileVerdict

    family = ApplicationVerdict if kind == "application" else ProfileVerdict
    approve = family(item_id=item_id, verdict="approve").pack()
    reject = family(item_id=item_id, verdict="reject").pack()
    return (
        (
            Button(t(N_("✅ Approve")), callback=approve),
            Button(t(N_("❌ Reject")), callback=reject),
        ),
    )


class ReviewConsumers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscribe(self, hub: SignalHub) -> None:
        # The subscriber's name is stored with each delivery: renaming one is a migration.
        for event, handler in (
            ("core_user_applied", self.ask_approvers_to_decide_application),
            ("core_user_application_decided", self.tell_applicant_the_decision),
            ("core_user_application_decided", self.tell_partner_of_new_team_member),
            ("core_profile_change_requested", self.ask_reviewers_to_check_profile),
            ("core_profile_change_decided", self.tell_partner_the_profile_decision),
        ):
            hub.subscribe(event, handler, name=handler.__name__)

    # ---- applications -----------------------------------------------------------------

    async def ask_approvers_to_decide_application(
        self, event: CoreUserApplied, d: Delivery
    ) -> None:
        """Every user with `approve_users` (and ADMIN_IDS) gets the application with buttons."""
        application = await Application.get_or_none(id=event.application_id)
        if application is None or application.status != Review.PENDING:
            return
        candidate = await User.get(id=event.user_id)
        lead = await LeadEntry.get_or_none(id=event.lead_id) if event.lead_id else None
        partner = await User.get_or_none(id=lead.partner_id) if lead and lead.partner_id else None
        messages: list[Outgoing] = []
        for chat_id, approver in await reviewers(
            Capability.APPROVE_USERS, self.deps.settings.admin_ids
        ):
            t = self._translator(approver)
            lines = [
                f"🙋 <b>{html.escape(t(N_('Application to become a partner')))}</b>",
                f"{html.escape(t(N_('Name')))}: <b>{person(candidate, t)}</b>",
                f"{html.escape(t(N_('Brought by')))}: {person(partner, t) if partner else '—'}",
                f"{html.escape(t(N_('Via')))}: {html.escape(application.via)}",
            ]
            if application.text:
                lines.append(f"{html.escape(t(N_('Message')))}: {html.escape(application.text)}")
            buttons = review_buttons("application", application.id, t)
            messages.append(OutgoingMessage(chat_id, "\n".join(lines), buttons=buttons))
        await self._send(d, messages)

    async def tell_applicant_the_decision(
        self, event: CoreUserApplicationDecided, d: Delivery
    ) -> None:
        """The candidate hears the decision: welcome as a partner, or a polite no."""
        user = await User.get_or_none(id=event.user_id)
        if user is None or user.chat_id is None:
            return
        t = self._translator(user)
        if event.decision == Review.APPROVED:
            text = "🎉 " + html.escape(
                t(
                    N_(
                        "Your application is approved: you are a partner now! "
                        "Send /ref for your referral links and their QR code."
                    )
                )
            )
        else:
            text = html.escape(
                t(
                    N_(
                        "Thank you for your application. This time it was not approved; "
                        "you are welcome to stay with us and to apply again later."
                    )
                )
            )
        await self._send(d, [OutgoingMessage(user.chat_id, text)])

    async def tell_partner_of_new_team_member(
        self, event: CoreUserApplicationDecided, d: Delivery
    ) -> None:
        """On approval, the partner who brought the new partner hears they joined the team."""
        if event.decision != Review.APPROVED or event.referred_by_id is None:
            return
        partner = await User.get_or_none(id=event.referred_by_id)
        member = await User.get_or_none(id=event.user_id)
        if partner is None or partner.chat_id is None or member is None:
            return
        t = self._translator(partner)
        text = "🤝 " + t(N_("{name} joined your team as a partner.")).format(
            name=f"<b>{person(member, t)}</b>"
        )
        await self._send(d, [OutgoingMessage(partner.chat_id, text)])

    # ---- profile changes --------------------------------------------------------------

    async def ask_reviewers_to_check_profile(
        self, event: CoreProfileChangeRequested, d: Delivery
    ) -> None:
        """Users with `approve_profiles` see the new name or photo, with buttons."""
        change = await ProfileChange.get_or_none(id=event.change_id)
        if change is None or change.status != Review.PENDING:
            return  # replaced by a newer change, or decided already
        owner = await User.get(id=change.user_id)
        messages: list[Outgoing] = []
        for chat_id, reviewer in await reviewers(
            Capability.APPROVE_PROFILES, self.deps.settings.admin_ids
        ):
            t = self._translator(reviewer)
            title = t(N_("Profile change of {name}")).format(name=f"<b>{person(owner, t)}</b>")
            buttons = review_buttons("profile", change.id, t)
            if change.field == "photo":
                caption = f"🪪 {title}\n{html.escape(t(N_('New photo (shown to leads)')))}"
                messages.append(OutgoingPhoto(chat_id, change.value, caption, buttons))
            else:
                label = html.escape(t(N_("New name (shown to leads)")))
                text = f"🪪 {title}\n{label}: <b>{html.escape(change.value)}</b>"
                messages.append(OutgoingMessage(chat_id, text, buttons=buttons))
        await self._send(d, messages)

    async def tell_partner_the_profile_decision(
        self, event: CoreProfileChangeDecided, d: Delivery
    ) -> None:
        """The partner hears whether leads now see the new name or photo."""
        user = await User.get_or_none(id=event.user_id)
        change = await ProfileChange.get_or_none(id=event.change_id)
        if user is None or user.chat_id is None or change is None:
            return
        t = self._translator(user)
        approved = event.decision == Review.APPROVED
        if change.field == "photo":
            msgid = (
                N_("✅ Your new photo is approved: leads see it now.")
                if approved
                else N_("Your new photo was not approved. You may send another one.")
            )
            text = html.escape(t(msgid))
        else:
            msgid = (
                N_("✅ Your new name is approved: leads see “{name}” now.")
                if approved
                else N_("Your new name “{name}” was not approved. You may suggest another one.")
            )
            text = html.escape(t(msgid)).format(name=html.escape(change.value))
        await self._send(d, [OutgoingMessage(user.chat_id, text)])

    # ---- helpers ----------------------------------------------------------------------

    def _translator(self, user: User | None) -> Translate:
        texts = self.deps.texts
        locale = texts.pick(user.locale, user.language_code) if user else texts.default

        def t(msgid: str) -> str:
            return texts(locale, msgid)

        return t

    async def _send(self, d: Delivery, messages: list[Outgoing]) -> None:
        if not messages:
            return
        async with self.deps.hub.transaction() as tx:
            for message in messages:
                await enqueue(
                    tx.connection,
                    self.deps.clock,
                    key=f"{d.key}:{message.chat_id}",
                    message=message,
                    priority=Priority.CRITICAL,
                )
