"""/stats: the funnel of the leads one may see, for a period chosen by button."""

from __future__ import annotations

import html
from typing import Final

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.access import allowed_any
from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from core.clock import Clock
from core.roles import Capability
from core.scope import scope_of
from core.settings import Settings
from core.stats import FunnelStats, Period, funnel_stats, period_start
from delivery.callbacks import StatsPeriod
from delivery.outbox import Button, Buttons
from locales import N_
from models import User

router: Final[Routes] = Routes(__name__)

NEED = (Capability.LEADS_VIEW_OWN, Capability.LEADS_VIEW_TEAM, Capability.LEADS_VIEW_ALL)
LABELS: Final[dict[Period, str]] = {
    Period.TODAY: N_("Today"),
    Period.WEEK: N_("7 days"),
    Period.MONTH: N_("30 days"),
    Period.ALL: N_("All time"),
}


@router.message(Command("stats"))
async def stats_command(
    message: Message, user: User, t: Translate, reply: Reply, clock: Clock, settings: Settings
) -> None:
    if not await allowed_any(user, NEED, t, reply):
        return
    text, buttons = await render(user, Period.TODAY, t, clock, settings)
    await reply(text, buttons)


@router.callback_query(StatsPeriod.filter())
async def stats_period(
    query: CallbackQuery,
    callback_data: StatsPeriod,
    user: User,
    t: Translate,
    reply: Reply,
    clock: Clock,
    settings: Settings,
) -> None:
    if not await allowed_any(user, NEED, t, query):
        return
    if query.message is None:
        await query.answer(t(N_("This button is not valid.")), show_alert=True)
        return
    text, buttons = await render(user, callback_data.period, t, clock, settings)
    await reply.edit(query.message.message_id, text, buttons)
    await query.answer()


async def render(
    user: User, period: Period, t: Translate, clock: Clock, settings: Settings
) -> tuple[str, Buttons]:
    since = period_start(period, clock, settings.timezone)
    stats = await funnel_stats(await scope_of(user), since, clock.now())
    buttons = tuple(
        Button(("• " if p is period else "") + t(label), callback=StatsPeriod(period=p).pack())
        for p, label in LABELS.items()
    )
    return _text(stats, period, t), (buttons,)


def _text(stats: FunnelStats, period: Period, t: Translate) -> str:
    def row(label: str, value: int) -> str:
        return f"{html.escape(t(label))}: <b>{value}</b>"

    title = t(N_("Funnel: {period}")).format(period=t(LABELS[period]))
    lines = [f"<b>{html.escape(title)}</b>", "", row(N_("New leads"), stats.new_leads)]
    lines += [f"  {html.escape(s)}: {n}" for s, n in stats.new_by_source.items()]
    lines += [
        row(N_("Bound to Telegram"), stats.bound),
        row(N_("Registered for a webinar"), stats.registered),
        row(N_("Attended"), stats.attended),
        row(N_("Applied to become a partner"), stats.applied),
        row(N_("Approved"), stats.approved),
    ]
    return "\n".join(lines)
