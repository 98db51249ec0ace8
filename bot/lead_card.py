"""The lead card: who the lead is, where they came from, what happened since, and the
partner's CRM status and notes. Opened from `/leads` or from a new-lead notice.

Nobody sees or changes a lead outside their scope (`core/scope.py`): every press checks
it again, because callback data can be forged and a button can outlive a right.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiogram.types import CallbackQuery, Message

from bot.context import Translate
from bot.lead_notes import card_notes, notes_page
from bot.prompts import ask, on_prompt
from bot.replies import Reply
from bot.routes import Routes
from core.attendance import Stage, history_of
from core.clock import Clock
from core.crm import InvalidNote, OutOfScope, add_note, set_status
from core.hub import SignalHub
from core.present import person_name, short_time, utm_text
from core.scope import LeadScope, Reach, scope_of
from core.settings import Settings
from core.telegram_limits import TEXT_LIMIT, fit_html, visible_length
from delivery.callbacks import AddNote, CardInPlace, LeadCard, LeadsPage, LeadStatus, NotesPage
from delivery.outbox import Button, Buttons
from locales import N_
from models import CrmStatus, LeadEntry, LeadTouch, ScenarioRun, User

router: Final[Routes] = Routes(__name__)

NOT_IN_LIST = N_("This lead is not in your list.")
STATUS_LABELS: Final[dict[CrmStatus, str]] = {
    CrmStatus.NEW: N_("New"),
    CrmStatus.IN_PROGRESS: N_("In progress"),
    CrmStatus.APPLIED: N_("Applied"),
    CrmStatus.PARTNER: N_("Became a partner"),
    CrmStatus.REJECTED: N_("Rejected"),
}
STAGE_LABELS: Final[dict[Stage, str]] = {
    Stage.REGISTERED: N_("registered"),
    Stage.ENTERED: N_("entered"),
    Stage.ATTENDED: N_("attended"),
    Stage.NOT_ATTENDED: N_("did not attend"),
}
# The card's fields (name, e-mail, UTM, ...) leave at least this much for the notes.
NOTES_ROOM = 600


async def visible_lead(user: User, lead_id: int) -> LeadEntry | None:
    """The lead if it is in `user`'s scope (`core/scope.py`), else None."""
    return await (await scope_of(user)).lead(lead_id)


def status_label(t: Translate, status: str) -> str:
    return t(STATUS_LABELS[CrmStatus(status)])


def _message_id(query: CallbackQuery) -> int | None:
    return query.message.message_id if query.message is not None else None


@router.callback_query(LeadCard.filter())
@router.callback_query(CardInPlace.filter())
async def open_card(
    query: CallbackQuery,
    callback_data: LeadCard | CardInPlace,
    user: User,
    t: Translate,
    settings: Settings,
    reply: Reply,
) -> None:
    """The card as a new message (from the list or a notice), or in place (from its notes)."""
    scope = await scope_of(user)
    lead = await scope.lead(callback_data.lead_id)
    if lead is None:
        await query.answer(t(NOT_IN_LIST), show_alert=True)
        return
    await query.answer()
    text, buttons = await card(lead, scope, t, settings)
    if isinstance(callback_data, CardInPlace):
        await _show(query, reply, text, buttons)
    else:
        await reply(text, buttons)


@router.callback_query(LeadStatus.filter())
async def change_status(
    query: CallbackQuery,
    callback_data: LeadStatus,
    user: User,
    t: Translate,
    settings: Settings,
    reply: Reply,
    hub: SignalHub,
    clock: Clock,
) -> None:
    status = callback_data.status
    try:
        lead, changed = await set_status(hub, clock, callback_data.lead_id, status, actor=user)
    except OutOfScope:
        await query.answer(t(NOT_IN_LIST), show_alert=True)
        return
    await query.answer(t(N_("Status: {status}")).format(status=status_label(t, status)))
    if not changed:
        return  # the card already says so; an identical edit would be refused
    await _show(query, reply, *await card(lead, await scope_of(user), t, settings))


@router.callback_query(AddNote.filter())
async def start_note(
    query: CallbackQuery,
    callback_data: AddNote,
    user: User,
    t: Translate,
    reply: Reply,
    clock: Clock,
) -> None:
    lead = await visible_lead(user, callback_data.lead_id)
    if lead is None:
        await query.answer(t(NOT_IN_LIST), show_alert=True)
        return
    await ask(clock, user, "lead_note", lead_id=lead.id)
    await query.answer()
    prompt = t(N_("Send the note about {name} as one message (/cancel to stop)."))
    await reply(prompt.format(name=f"<b>{html.escape(lead.name or f'#{lead.id}')}</b>"))


@router.callback_query(NotesPage.filter())
async def turn_notes(
    query: CallbackQuery,
    callback_data: NotesPage,
    user: User,
    t: Translate,
    settings: Settings,
    reply: Reply,
) -> None:
    lead = await visible_lead(user, callback_data.lead_id)
    if lead is None:
        await query.answer(t(NOT_IN_LIST), show_alert=True)
        return
    await query.answer()
    text, buttons = await notes_page(lead, t, _when(settings), callback_data.start)
    await _show(query, reply, text, buttons)


async def _show(query: CallbackQuery, reply: Reply, text: str, buttons: Buttons) -> None:
    """In place of the message pressed (a new message when Telegram gave none)."""
    message_id = _message_id(query)
    if message_id is None:
        await reply(text, buttons)
    else:
        await reply.edit(message_id, text, buttons)


@on_prompt("lead_note")
async def save_note(
    message: Message, user: User, text: str, data: dict[str, Any], deps: dict[str, Any]
) -> None:
    t: Translate = deps["t"]
    reply: Reply = deps["reply"]
    try:
        note = await add_note(deps["hub"], deps["clock"], int(data["lead_id"]), text, actor=user)
    except OutOfScope:
        await reply(t(NOT_IN_LIST))
        return
    except InvalidNote:
        await reply(t(N_("A note must be 1 to 2000 characters. Nothing was saved.")))
        return
    await reply(t(N_("Note saved.")))
    lead = await LeadEntry.get(id=note.lead_id)
    await reply(*await card(lead, await scope_of(user), t, deps["settings"]))


async def card(
    lead: LeadEntry, scope: LeadScope, t: Translate, settings: Settings
) -> tuple[str, Buttons]:
    """The card's text and its buttons (status, note, all notes, back to the list).

    The fields come first and are cut if they alone would crowd out the notes; the
    newest notes fill what is left of Telegram's 4,096 characters."""
    head = await card_text(lead, t, settings, scope=scope)
    head = fit_html(head, TEXT_LIMIT - NOTES_ROOM)
    notes = await card_notes(lead, t, _when(settings), TEXT_LIMIT - visible_length(head) - 1)
    return "\n".join([head, *notes.lines]), card_buttons(lead, t, all_notes=notes.more)


def card_buttons(lead: LeadEntry, t: Translate, *, all_notes: bool = False) -> Buttons:
    def status_button(status: CrmStatus) -> Button:
        label = status_label(t, status)
        mark = "✅ " if status == lead.crm_status else ""
        return Button(mark + label, callback=LeadStatus(lead_id=lead.id, status=status).pack())

    statuses = [status_button(s) for s in CrmStatus]
    notes = [Button("📝 " + t(N_("Add note")), callback=AddNote(lead_id=lead.id).pack())]
    if all_notes:
        every = NotesPage(lead_id=lead.id, start=0).pack()
        notes.append(Button("📒 " + t(N_("All notes")), callback=every))
    return (
        tuple(statuses[:3]),
        tuple(statuses[3:]),
        tuple(notes),
        (Button("◀ " + t(N_("Back to list")), callback=LeadsPage(page=0).pack()),),
    )


def _when(settings: Settings) -> Callable[[float], str]:
    return partial(short_time, tz=settings.timezone)


async def card_text(
    lead: LeadEntry, t: Translate, settings: Settings, *, scope: LeadScope | None = None
) -> str:
    """The card's fields, from the name down to the CRM status (the notes come after)."""
    zone = ZoneInfo(settings.timezone)
    when = _when(settings)

    def row(label: str, value: str) -> str:
        return f"{html.escape(t(label))}: {html.escape(value)}"

    touches = await LeadTouch.filter(lead_id=lead.id).count()
    runs = await ScenarioRun.filter(lead_id=lead.id).order_by("id")
    utm = utm_text(lead.utm)
    lines = [
        f"<b>{html.escape(lead.name or '—')}</b> #{lead.id}",
        row(N_("Phone"), lead.phone or "—"),
        row(N_("E-mail"), lead.email or "—"),
        row(N_("Source"), lead.lead_source),
        row("UTM", utm or "—"),
        row(N_("First touch"), f"{when(lead.first_touch_at)} ({zone.key})"),
        row(N_("Touches"), str(touches)),
        row(N_("Telegram"), t(N_("linked")) if lead.chat_id else t(N_("not linked yet"))),
    ]
    if scope is not None and scope.reach in (Reach.TEAM, Reach.ALL):
        lines.append(row(N_("Partner"), await _partner(lead)))
    lines.append(row(N_("Webinars"), await _webinars(lead, t) or t(N_("none yet"))))
    lines += [row(N_("Scenario"), f"{r.scenario}: {r.status}") for r in runs]
    lines.append(f"<b>{html.escape(t(N_('CRM status')))}: {status_label(t, lead.crm_status)}</b>")
    return "\n".join(lines)


async def _partner(lead: LeadEntry) -> str:
    partner = await User.get_or_none(id=lead.partner_id) if lead.partner_id else None
    if partner is None:
        return "—"
    name = person_name(partner) or "—"
    return f"{name} ({partner.telegram_id})" if partner.telegram_id else name


async def _webinars(lead: LeadEntry, t: Translate) -> str:
    return "; ".join(
        f"{w.webinar_id}: {', '.join(t(STAGE_LABELS[s]) for s in w.stages)}"
        for w in await history_of(lead.id)
    )
