"""The AUTO webinars' screen: coming sessions with their registrations, pause and resume.

Opened from the speakers' `/webinars` list (its "AUTO webinars" button) or by `/series`,
as a message of its own: the list is followed and edited in place while a webinar is
live, so this screen does not borrow its message. Who may see it and what a pause does
(which planned sessions are removed, which still happen) are Core's
(`core/auto_series_admin.py`); this renders the outcome.
"""

from __future__ import annotations

import html
from typing import Final

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.access import allowed, refusal
from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from bot.webinar_list import ICONS, STATUS_WORDS, local_time, zone_of
from core.auto_series_admin import (
    VIEW,
    Change,
    PauseResult,
    SeriesGone,
    SeriesView,
    list_series,
    pause_series,
    resume_series,
    series_view,
)
from core.clock import Clock
from core.hub import SignalHub
from core.settings import Settings
from core.telegram_limits import fit_plain
from core.users import NotAllowed
from delivery.callbacks import AutoSeriesScreen
from delivery.outbox import Button, Buttons
from locales import N_
from models import User, WebinarStatus

router: Final[Routes] = Routes(__name__)

LIST_LIMIT = 10  # series on the list screen
LABEL_TITLE = 32


@router.message(Command("series"))
async def series_command(
    message: Message, user: User, t: Translate, reply: Reply, settings: Settings
) -> None:
    if not await allowed(user, VIEW, t, reply):
        return
    text, buttons = await render_list(user, t)
    await reply(text, buttons)


@router.callback_query(AutoSeriesScreen.filter())
async def series_press(
    query: CallbackQuery,
    callback_data: AutoSeriesScreen,
    user: User,
    t: Translate,
    reply: Reply,
    hub: SignalHub,
    clock: Clock,
    settings: Settings,
) -> None:
    if not await allowed(user, VIEW, t, query):
        return
    action, series_id = callback_data.action, callback_data.series_id
    notice = ""
    try:
        if action in ("open", "list"):
            text, buttons = await render_list(user, t)
        else:
            if action == "pause":
                notice = _paused(await pause_series(hub, clock, series_id, actor=user), t)
            elif action == "resume":
                notice = _resumed(await resume_series(hub, clock, series_id, actor=user), t)
            view = await series_view(series_id, actor=user)
            text, buttons = _render_one(view, t, await zone_of(user, settings.timezone))
    except NotAllowed:  # withdrawn between the check and the command
        await query.answer(refusal(t, VIEW), show_alert=True)
        return
    except SeriesGone:
        await query.answer(t(N_("This AUTO webinar is gone.")), show_alert=True)
        return
    if action == "open" or query.message is None:
        await reply(text, buttons)
    else:
        await reply.edit(query.message.message_id, text, buttons)
    await query.answer(notice, show_alert=bool(notice))


def _paused(result: PauseResult, t: Translate) -> str:
    if result.change is Change.ALREADY:
        return t(N_("It was paused already."))
    return t(
        N_(
            "Paused: no new sessions. Removed {removed} without registrations; "
            "{kept} with registrations still take place."
        )
    ).format(removed=result.removed, kept=result.kept)


def _resumed(result: PauseResult, t: Translate) -> str:
    if result.change is Change.ALREADY:
        return t(N_("It is running already."))
    return t(N_("Resumed: {planned} new sessions planned.")).format(planned=result.planned)


def _state(view: SeriesView, t: Translate) -> str:
    return t(N_("paused")) if view.series.paused else t(N_("running"))


def _summary(view: SeriesView, t: Translate) -> str:
    return t(N_("coming sessions: {coming} · registered: {registered}")).format(
        coming=view.coming, registered=view.registrations
    )


async def render_list(user: User, t: Translate) -> tuple[str, Buttons]:
    views = await list_series(actor=user)
    lines = [f"<b>{html.escape(t(N_('AUTO webinars')))}</b>"]
    rows: list[tuple[Button, ...]] = []
    if not views:
        lines.append(html.escape(t(N_("No AUTO webinars yet."))))
    for view in views[:LIST_LIMIT]:
        icon = "⏸" if view.series.paused else "📼"
        lines.append("")
        lines.append(
            f"{icon} <b>{html.escape(view.series.title)}</b> — {html.escape(_state(view, t))}"
        )
        lines.append(html.escape(_summary(view, t)))
        data = AutoSeriesScreen(action="show", series_id=view.series.id).pack()
        rows.append((Button(f"{icon} {fit_plain(view.series.title, LABEL_TITLE)}", callback=data),))
    refresh = AutoSeriesScreen(action="list").pack()
    rows.append((Button("🔄 " + t(N_("Refresh")), callback=refresh),))
    return "\n".join(lines), tuple(rows)


def _render_one(view: SeriesView, t: Translate, zone: str) -> tuple[str, Buttons]:
    series = view.series
    lines = [
        f"📼 <b>{html.escape(series.title)}</b> — {html.escape(_state(view, t))}",
        html.escape(_summary(view, t)),
        "",
    ]
    if not view.sessions:
        lines.append(html.escape(t(N_("No coming sessions."))))
    for session in view.sessions:
        status = WebinarStatus(session.webinar.status)
        registered = t(N_("registered: {count}")).format(count=session.registrations)
        lines.append(
            f"{ICONS[status]} {local_time(session.webinar.starts_at, zone)} — "
            f"{html.escape(t(STATUS_WORDS[status]))} · {html.escape(registered)}"
        )
    if view.coming > len(view.sessions):
        more = t(N_("… and {count} more")).format(count=view.coming - len(view.sessions))
        lines.append(html.escape(more))
    lines.append(html.escape(t(N_("Times in {zone}.")).format(zone=zone)))

    def press(label: str, action: str) -> Button:
        data = AutoSeriesScreen(action=action, series_id=series.id).pack()  # type: ignore[arg-type]
        return Button(label, callback=data)

    toggle = (
        press("▶️ " + t(N_("Resume the schedule")), "resume")
        if series.paused
        else press("⏸ " + t(N_("Pause the schedule")), "pause")
    )
    rows = (
        (toggle,),
        (press("🔄 " + t(N_("Refresh")), "show"), press("↩️ " + t(N_("All AUTO webinars")), "list")),
    )
    return "\n".join(lines), rows
