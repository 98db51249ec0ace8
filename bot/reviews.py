"""/apply, /profile, and the review buttons under the notices of `handlers/reviews.py`.

A button is checked again when it is pressed: it may have been forwarded, forged, or
the presser's rights may have changed since the notice was sent.
"""

from __future__ import annotations

import html
from typing import Final

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.access import allowed
from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from core.applications import Applied, apply, decide
from core.clock import Clock
from core.hub import SignalHub
from core.present import person
from core.profiles import NAME_LIMIT, BadName, Field, decide_change, pending_changes
from core.profiles import request_change as request_profile_change
from core.roles import Capability
from core.users import NotAllowed
from delivery.callbacks import ApplicationVerdict, ProfileVerdict
from delivery.outbox import OutgoingCaptionEdit, OutgoingPhoto
from locales import N_
from models import Review, User

router: Final[Routes] = Routes(__name__)

APPLY_ANSWERS = {
    Applied.APPLIED: N_(
        "✅ Your application to become a partner is sent. I will tell you here once it is decided."
    ),
    Applied.PENDING: N_("Your application is already waiting for a decision."),
    Applied.ALREADY_PARTNER: N_("You are a partner already: /ref shows your referral links."),
}


@router.message(Command("apply"))
async def apply_to_become_partner(
    message: Message,
    command: CommandObject,
    user: User,
    t: Translate,
    hub: SignalHub,
    clock: Clock,
    reply: Reply,
) -> None:
    result = await apply(hub, clock, user, via="bot", text=command.args or "")
    await reply(html.escape(t(APPLY_ANSWERS[result.outcome])))


# ---- review buttons -------------------------------------------------------------------


async def _decided_by(status: Review, decided_by_id: int | None, t: Translate) -> str:
    who = person(await User.get_or_none(id=decided_by_id) if decided_by_id else None, t)
    if status == Review.APPROVED:
        return "✅ " + html.escape(t(N_("Approved by {who}"))).format(who=who)
    return "❌ " + html.escape(t(N_("Rejected by {who}"))).format(who=who)


async def _report(
    query: CallbackQuery,
    reply: Reply,
    t: Translate,
    status: Review,
    decided_by_id: int | None,
    changed: bool,
) -> None:
    """After a review button: the notice says who decided; a press that changed nothing
    (decided before, by this or another reviewer) gets that as an alert instead."""
    line = await _decided_by(status, decided_by_id, t)
    if not changed:
        await query.answer(_plain(line), show_alert=True)
        return
    await query.answer()
    await _close_notice(query, reply, line)


async def _close_notice(query: CallbackQuery, reply: Reply, verdict: str) -> None:
    """The pressed notice loses its buttons and says who decided."""
    notice = query.message
    if not isinstance(notice, Message):
        return  # too old for Telegram to show: nothing to edit
    if notice.photo:
        caption = f"{notice.html_text}\n\n{verdict}" if notice.caption else verdict
        await reply.send(OutgoingCaptionEdit(reply.chat_id, notice.message_id, caption))
    else:
        await reply.edit(notice.message_id, f"{notice.html_text}\n\n{verdict}")


@router.callback_query(ApplicationVerdict.filter())
async def decide_application(
    query: CallbackQuery,
    callback_data: ApplicationVerdict,
    user: User,
    t: Translate,
    hub: SignalHub,
    clock: Clock,
    reply: Reply,
) -> None:
    if not await allowed(user, Capability.APPROVE_USERS, t, query):
        return
    approve = callback_data.verdict == "approve"
    try:
        decision = await decide(hub, clock, callback_data.item_id, approve, actor=user)
    except NotAllowed:  # withdrawn between the check and the decision
        await allowed(user, Capability.APPROVE_USERS, t, query)
        return
    except LookupError:
        await query.answer(t(N_("This application no longer exists.")), show_alert=True)
        return
    application = decision.application
    await _report(query, reply, t, application.status, application.decided_by_id, decision.changed)


@router.callback_query(ProfileVerdict.filter())
async def decide_profile_change(
    query: CallbackQuery,
    callback_data: ProfileVerdict,
    user: User,
    t: Translate,
    hub: SignalHub,
    clock: Clock,
    reply: Reply,
) -> None:
    if not await allowed(user, Capability.APPROVE_PROFILES, t, query):
        return
    approve = callback_data.verdict == "approve"
    try:
        decision = await decide_change(hub, clock, callback_data.item_id, approve, actor=user)
    except NotAllowed:
        await allowed(user, Capability.APPROVE_PROFILES, t, query)
        return
    if decision is None:
        text = t(N_("This change was replaced by a newer one (or no longer exists)."))
        await query.answer(text, show_alert=True)
        return
    change = decision.change
    await _report(query, reply, t, change.status, change.decided_by_id, decision.changed)


def _plain(text: str) -> str:
    # Alerts are plain text: undo the escaping made for HTML messages.
    return html.unescape(text)


# ---- /profile ---------------------------------------------------------------------------

PROFILE_USAGE = N_(
    "To change what leads see: /profile name Your Name (1–64 characters), or send a photo "
    "with the caption /profile. A user who reviews profiles approves each change."
)


@router.message(F.photo, Command("profile"))
async def suggest_photo(
    message: Message, user: User, t: Translate, hub: SignalHub, clock: Clock, reply: Reply
) -> None:
    if not await allowed(user, Capability.LEADS_VIEW_OWN, t, reply):
        return
    file_id = (message.photo or [])[-1].file_id  # the largest size
    await request_profile_change(hub, clock, user, Field.PHOTO, file_id)
    await reply(html.escape(t(N_("Thank you! Your new photo waits for approval."))))


@router.message(Command("profile"))
async def profile(
    message: Message,
    command: CommandObject,
    user: User,
    t: Translate,
    hub: SignalHub,
    clock: Clock,
    reply: Reply,
) -> None:
    if not await allowed(user, Capability.LEADS_VIEW_OWN, t, reply):
        return
    args = (command.args or "").strip()
    if not args:
        await _show_profile(user, t, reply)
        return
    keyword, _, value = args.partition(" ")
    if keyword.lower() != "name":
        await reply(html.escape(t(PROFILE_USAGE)))
        return
    try:
        change = await request_profile_change(hub, clock, user, Field.NAME, value)
    except BadName:
        text = t(N_("A name must be 1 to {limit} characters long.")).format(limit=NAME_LIMIT)
        await reply(html.escape(text))
        return
    text = t(N_("Thank you! Your new name “{name}” waits for approval."))
    await reply(html.escape(text).format(name=html.escape(change.value)))


async def _show_profile(user: User, t: Translate, reply: Reply) -> None:
    def row(label: str, value: str) -> str:
        return f"{html.escape(t(label))}: {value}"

    if user.display_name:
        name = f"<b>{html.escape(user.display_name)}</b>"
    else:
        fallback = html.escape(user.first_name or "—")
        name = f"<b>{fallback}</b> ({html.escape(t(N_('from Telegram')))})"
    photo = t(N_("yes, above")) if user.photo_file_id else t(N_("none"))
    lines = [
        f"<b>{html.escape(t(N_('Your profile (what leads see)')))}</b>",
        row(N_("Name"), name),
        row(N_("Photo"), html.escape(photo)),
    ]
    for change in await pending_changes(user):
        if change.field == Field.NAME:
            waiting = t(N_("new name “{name}”")).format(name=change.value)
        else:
            waiting = t(N_("new photo"))
        lines.append(row(N_("Waiting for approval"), html.escape(waiting)))
    lines += ["", html.escape(t(PROFILE_USAGE))]
    text = "\n".join(lines)
    if user.photo_file_id:
        await reply.send(OutgoingPhoto(reply.chat_id, user.photo_file_id, text))
    else:
        await reply(text)
