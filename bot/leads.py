"""/leads: the leads in the user's scope, newest first, a page at a time; /export: the
same leads as a CSV file. Whose leads those are is `core/scope.py`'s one rule."""

from __future__ import annotations

import html
from typing import Final

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.access import allowed_any
from bot.context import Translate
from bot.lead_card import status_label
from bot.replies import Reply
from bot.routes import Routes
from core.clock import Clock
from core.crm import export_leads
from core.hub import SignalHub
from core.roles import Capability
from core.scope import LeadScope, Reach, scope_of
from core.settings import Settings
from core.telegram_limits import fit_plain
from delivery.callbacks import LeadCard, LeadsPage
from delivery.outbox import Button, Buttons
from locales import N_
from models import LeadEntry, User

router: Final[Routes] = Routes(__name__)

PAGE_SIZE = 10
LABEL_LIMIT = 40
VIEW_LEADS = (Capability.LEADS_VIEW_OWN, Capability.LEADS_VIEW_TEAM, Capability.LEADS_VIEW_ALL)
HEADERS: Final[dict[Reach, str]] = {
    Reach.OWN: N_("Your leads: {total}"),
    Reach.TEAM: N_("Leads of you and your team: {total}"),
    Reach.ALL: N_("All leads: {total}"),
}


@router.message(Command("leads"))
async def show_leads(message: Message, user: User, t: Translate, reply: Reply) -> None:
    if not await allowed_any(user, VIEW_LEADS, t, reply):
        return
    await reply(*await leads_page(await scope_of(user), 0, t))


@router.callback_query(LeadsPage.filter())
async def turn_page(
    query: CallbackQuery, callback_data: LeadsPage, user: User, t: Translate, reply: Reply
) -> None:
    if not await allowed_any(user, VIEW_LEADS, t, query):
        return
    await query.answer()
    page = callback_data.page
    text, buttons = await leads_page(await scope_of(user), page, t)
    if query.message is None:
        await reply(text, buttons)
    else:
        await reply.edit(query.message.message_id, text, buttons)


async def leads_page(scope: LeadScope, page: int, t: Translate) -> tuple[str, Buttons]:
    """One page of the leads in `scope` (a page past the end shows the last one)."""
    total = await scope.leads().count()
    if total == 0:
        return t(N_("There are no leads in your list yet.")), ()
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    leads = await scope.leads().offset(page * PAGE_SIZE).limit(PAGE_SIZE)
    header = t(HEADERS.get(scope.reach, HEADERS[Reach.OWN])).format(total=total)
    text = f"<b>{html.escape(header)}</b>"
    if pages > 1:
        text += "\n" + html.escape(
            t(N_("Page {page} of {pages}")).format(page=page + 1, pages=pages)
        )
    rows: list[tuple[Button, ...]] = [
        (Button(_label(lead, t), callback=LeadCard(lead_id=lead.id).pack()),) for lead in leads
    ]
    turn = []
    if page > 0:
        turn.append(Button("◀", callback=LeadsPage(page=page - 1).pack()))
    if page < pages - 1:
        turn.append(Button("▶", callback=LeadsPage(page=page + 1).pack()))
    if turn:
        rows.append(tuple(turn))
    return text, tuple(rows)


def _label(lead: LeadEntry, t: Translate) -> str:
    # Button texts are plain text in Telegram (never parsed as HTML): shortened (in UTF-16
    # units, as Telegram counts), not escaped; the status after the name always shows.
    name = " ".join((lead.name or "").split()) or lead.phone or lead.email or "—"
    name = fit_plain(name, LABEL_LIMIT)
    return f"{name} · {status_label(t, lead.crm_status)}"


@router.message(Command("export"))
async def export(
    message: Message,
    user: User,
    t: Translate,
    reply: Reply,
    hub: SignalHub,
    clock: Clock,
    settings: Settings,
) -> None:
    if not await allowed_any(user, VIEW_LEADS, t, reply):
        return
    scope = await scope_of(user)
    leads = await scope.leads()
    if not leads:
        await reply(t(N_("There are no leads in your list yet.")))
        return
    data = await export_leads(
        hub, clock, leads, reach=scope.reach, timezone=settings.timezone, actor=user
    )
    caption = t(N_("Leads exported: {count}")).format(count=len(leads))
    await reply.file("leads.csv", data, caption=html.escape(caption))
