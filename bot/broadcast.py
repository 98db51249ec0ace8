"""/broadcast: a segment by button, the text as the next message, a preview, Confirm.

Nothing is sent before Confirm. Every step re-checks `broadcast`; the draft's changes are
the commands of `core/broadcasts.py`, the sending is `handlers/broadcasts.py` (through the
outbox at bulk priority, with a progress message).
"""

from __future__ import annotations

import html
from typing import Any, Final

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.access import allowed
from bot.context import Translate
from bot.prompts import ask, on_prompt
from bot.replies import Reply
from bot.routes import Routes
from core.broadcasts import (
    ATTENDANCE,
    IncompleteBroadcast,
    author_draft,
    cancel_broadcast,
    draft_broadcast,
    recipients,
    segment_webinars,
    set_broadcast_text,
)
from core.clock import Clock
from core.hub import SignalHub
from core.roles import ROLES, Capability
from core.texts import Texts
from delivery.callbacks import (
    BroadcastDecision,
    BroadcastSegment,
    BroadcastWebinarSegment,
    SegmentKind,
)
from delivery.outbox import Button, Buttons
from handlers.broadcasts import confirm_broadcast
from locales import N_
from models import CrmStatus, User, Webinar

router: Final[Routes] = Routes(__name__)

NEED = Capability.BROADCAST
TEXT_LIMIT = 4096


@router.message(Command("broadcast"))
async def broadcast_command(message: Message, user: User, t: Translate, reply: Reply) -> None:
    if not await allowed(user, NEED, t, reply):
        return
    webinars = await segment_webinars()
    await reply(html.escape(t(N_("Who should get the broadcast?"))), _segments(t, webinars))


def _segments(t: Translate, webinars: list[Webinar]) -> Buttons:
    def button(label: str, kind: SegmentKind, value: str = "", webinar: int = 0) -> Button:
        if webinar and kind in ("registered", "attendance"):
            of = BroadcastWebinarSegment(kind=kind, value=value, webinar=webinar)
            return Button(label, callback=of.pack())
        return Button(label, callback=BroadcastSegment(kind=kind, value=value).pack())

    roles = [button(f"👤 {r.value}", "role", r.value) for r in ROLES]
    crm = [button(f"📋 {s.value}", "crm", s.value) for s in CrmStatus]
    webinar = [button(t(N_("Registered for a webinar")), "registered")]
    attendance = {"attended": N_("Attended"), "not_attended": N_("Did not attend")}
    webinar += [button(t(attendance[a]), "attendance", a) for a in ATTENDANCE]
    # One row per recent webinar: its registrants, who attended it, who did not.
    for w in webinars:
        title = w.title if len(w.title) <= 24 else w.title[:23] + "…"
        webinar.append(button(f"«{title}»: {t(N_('registered'))}", "registered", "", w.id))
        webinar += [
            button(f"«{title}»: {t(attendance[a])}", "attendance", a, w.id) for a in ATTENDANCE
        ]
    return tuple(
        tuple(group[i : i + 3]) for group in (roles, crm, webinar) for i in range(0, len(group), 3)
    )


def _segment_name(segment: dict[str, Any], t: Translate) -> str:
    kind, value = segment.get("kind"), segment.get("value", "")
    if kind == "role":
        return t(N_("role: {value}")).format(value=value)
    if kind == "crm":
        return t(N_("CRM status: {value}")).format(value=value)
    webinar = segment.get("webinar")
    if kind == "registered":
        if webinar:
            return t(N_("registered for webinar #{webinar}")).format(webinar=webinar)
        return t(N_("registered for a webinar"))
    if webinar:
        return t(N_("attendance at webinar #{webinar}: {value}")).format(
            value=value, webinar=webinar
        )
    return t(N_("webinar attendance: {value}")).format(value=value)


@router.callback_query(BroadcastSegment.filter())
@router.callback_query(BroadcastWebinarSegment.filter())
async def choose_segment(
    query: CallbackQuery,
    callback_data: BroadcastSegment | BroadcastWebinarSegment,
    user: User,
    t: Translate,
    reply: Reply,
    hub: SignalHub,
    clock: Clock,
) -> None:
    if not await allowed(user, NEED, t, query):
        return
    webinar = getattr(callback_data, "webinar", 0)
    draft = await draft_broadcast(
        hub, clock, user, callback_data.kind, callback_data.value, webinar
    )
    if draft is None:
        await query.answer(t(N_("This button is not valid.")), show_alert=True)
        return
    await ask(clock, user, "broadcast_text", broadcast_id=draft.id)
    text = t(N_("Segment — {segment}. Now send the text of the message (/cancel to stop)."))
    await reply(html.escape(text.format(segment=_segment_name(draft.segment, t))))
    await query.answer()


@on_prompt("broadcast_text")
async def broadcast_text_answer(
    message: Message, user: User, text: str, data: dict[str, Any], wf: dict[str, Any]
) -> None:
    t: Translate = wf["t"]
    reply: Reply = wf["reply"]
    clock: Clock = wf["clock"]
    hub: SignalHub = wf["hub"]
    if not await allowed(user, NEED, t, reply):
        return
    draft = await author_draft(int(data.get("broadcast_id", 0)), user)
    if draft is None:
        await reply(html.escape(t(N_("That question has expired. Please start again."))))
        return
    # html_text keeps the author's bold, links, … and escapes everything else.
    body = message.html_text.strip() if message.text else ""
    if not body or len(message.text or "") > TEXT_LIMIT:
        await ask(clock, user, "broadcast_text", broadcast_id=draft.id)
        await reply(html.escape(t(N_("The text must be 1 to 4096 characters. Send it again."))))
        return
    if not await set_broadcast_text(hub, clock, draft.id, user, body):
        await reply(html.escape(t(N_("This broadcast can no longer be changed."))))
        return
    draft.text = body
    count = len(await recipients(draft.segment))
    await reply(body)  # exactly what the recipients will see
    summary = t(N_("Preview above. Segment — {segment}: {count} recipients.")).format(
        segment=_segment_name(draft.segment, t), count=count
    )
    send_data = BroadcastDecision(broadcast_id=draft.id, action="go").pack()
    cancel_data = BroadcastDecision(broadcast_id=draft.id, action="cancel").pack()
    go = Button(t(N_("Send")), callback=send_data)
    cancel = Button(t(N_("Cancel")), callback=cancel_data)
    await reply(html.escape(summary), ((go, cancel),) if count else ((cancel,),))


@router.callback_query(BroadcastDecision.filter())
async def decide(
    query: CallbackQuery,
    callback_data: BroadcastDecision,
    user: User,
    t: Translate,
    reply: Reply,
    hub: SignalHub,
    clock: Clock,
    texts: Texts,
    locale: str,
) -> None:
    if not await allowed(user, NEED, t, query):
        return
    if query.message is None:
        await query.answer(t(N_("This button is not valid.")), show_alert=True)
        return
    broadcast_id, action = callback_data.broadcast_id, callback_data.action
    message_id = query.message.message_id
    if action == "cancel":
        if not await cancel_broadcast(hub, clock, broadcast_id, user):
            await query.answer(t(N_("This broadcast can no longer be changed.")), show_alert=True)
            return
        await reply.edit(message_id, html.escape(t(N_("Broadcast cancelled. Nothing was sent."))))
        await query.answer()
        return
    try:
        total = await confirm_broadcast(
            hub, clock, texts, locale, broadcast_id, user, reply.chat_id
        )
    except IncompleteBroadcast:
        text = t(N_("This broadcast is not ready to send: send its text first."))
        await query.answer(text, show_alert=True)
        return
    if total is None:
        await query.answer(t(N_("This broadcast can no longer be changed.")), show_alert=True)
        return
    if total == 0:
        text = t(N_("Nobody is in this segment now. Nothing was sent."))
    else:
        text = t(N_("Confirmed: sending to {total} recipients.")).format(total=total)
    await reply.edit(message_id, html.escape(text))
    await query.answer()
