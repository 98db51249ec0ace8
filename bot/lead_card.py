"""The lead card a partner opens from a notice. Nobody sees a lead outside their scope."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.types import CallbackQuery

from bot.context import Translate
from bot.replies import Reply
from core.roles import Capability, capabilities_of
from core.settings import Settings
from locales import N_
from models import LeadEntry, LeadTouch, ScenarioRun, User

router: Final[Router] = Router(name=__name__)


async def visible_lead(user: User, lead_id: int) -> LeadEntry | None:
    """The lead if `user` may see it: `leads_view_all` sees any, `leads_view_own` their own."""
    lead = await LeadEntry.get_or_none(id=lead_id)
    if lead is None:
        return None
    caps = await capabilities_of(user)
    if Capability.LEADS_VIEW_ALL in caps:
        return lead
    own = lead.partner_id is not None and lead.partner_id == user.id
    if own and Capability.LEADS_VIEW_OWN in caps:
        return lead
    # TODO(issue 4, partner CRM): `leads_view_team` — the leads of the partners this user
    # brought in — once approval records who brought whom.
    return None


@router.callback_query(F.data.regexp(r"^lead:\d{1,18}$"))
async def open_card(
    query: CallbackQuery, user: User, t: Translate, settings: Settings, reply: Reply
) -> None:
    lead = await visible_lead(user, int((query.data or "").split(":")[1]))
    if lead is None:
        await query.answer(t(N_("This lead is not in your list.")), show_alert=True)
        return
    await query.answer()
    await reply(await card_text(lead, t, settings))


async def card_text(lead: LeadEntry, t: Translate, settings: Settings) -> str:
    zone = ZoneInfo(settings.timezone)

    def when(ts: float) -> str:
        return f"{datetime.fromtimestamp(ts, UTC).astimezone(zone):%d.%m.%Y %H:%M}"

    def row(label: str, value: str) -> str:
        return f"{html.escape(t(label))}: {html.escape(value)}"

    touches = await LeadTouch.filter(lead_id=lead.id).count()
    runs = await ScenarioRun.filter(lead_id=lead.id).order_by("id")
    utm = ", ".join(f"{k.removeprefix('utm_')}={v}" for k, v in sorted(lead.utm.items()))
    lines = [
        f"<b>{html.escape(lead.name or '—')}</b>",
        row(N_("Phone"), lead.phone or "—"),
        row(N_("E-mail"), lead.email or "—"),
        row(N_("Source"), lead.lead_source),
        row("UTM", utm or "—"),
        row(N_("First touch"), f"{when(lead.first_touch_at)} ({zone.key})"),
        row(N_("Touches"), str(touches)),
        row(N_("Telegram"), t(N_("linked")) if lead.chat_id else t(N_("not linked yet"))),
    ]
    lines += [row(N_("Scenario"), f"{r.scenario}: {r.status}") for r in runs]
    return "\n".join(lines)
