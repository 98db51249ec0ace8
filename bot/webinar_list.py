"""The speaker's `/webinars` screen: live and upcoming webinars with their controls.

One message lists them (a phone shows it whole, and one message is one thing to keep up
to date): title, start in the speaker's time zone, status, and for a live one the people
in the room and the chat's messages now. The buttons open what the reader's capabilities
allow: Start/Stop/Cancel (`webinar_manage_status`), Chat, the room as a speaker and, while
live, Open/Close offer (the room's form; `webinar_manage_chat`), Edit and New
(`webinar_create`), and — when there are AUTO webinars — their own screen
(`bot/auto_series.py`). Rendering only: what a press does is Core's to decide.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.context import Translate
from core.auto_series_admin import any_series
from core.chat import message_count
from core.clock import Clock
from core.links import Links
from core.live import LiveRooms
from core.roles import Capability, capabilities_of
from core.telegram_limits import fit_plain
from core.webinars import upcoming
from delivery.callbacks import (
    AutoSeriesScreen,
    ChatModeration,
    WebinarAction,
    WebinarDialog,
    WebinarOffer,
    WebinarsRefresh,
)
from delivery.outbox import Button, Buttons
from locales import N_
from models import LeadEntry, StreamType, User, Webinar, WebinarStatus

LIST_LIMIT = 8  # webinars on the screen: four buttons each stay readable
LABEL_TITLE = 24  # characters of a title in a button

STATUS_WORDS = {
    WebinarStatus.SCHEDULED: N_("scheduled"),
    WebinarStatus.LIVE: N_("live"),
    WebinarStatus.FINISHED: N_("finished"),
    WebinarStatus.CANCELLED: N_("cancelled"),
}
ICONS = {
    WebinarStatus.SCHEDULED: "🗓",
    WebinarStatus.LIVE: "🔴",
    WebinarStatus.FINISHED: "✅",
    WebinarStatus.CANCELLED: "✖️",
}


@dataclass(frozen=True)
class Screen:
    text: str
    buttons: Buttons
    live: bool  # a live webinar is on it: its counts move


async def zone_of(user: User, default: str) -> str:
    """The time zone the speaker reads times in: their browser's, if they ever registered
    through the form (Telegram does not tell a bot), else the operators'."""
    lead = await LeadEntry.filter(user_id=user.id, tz__isnull=False).order_by("-id").first()
    zone = lead.tz if lead is not None and lead.tz else default
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError):
        return default
    return zone


def local_time(ts: float, zone: str) -> str:
    return f"{datetime.fromtimestamp(ts, UTC).astimezone(ZoneInfo(zone)):%d.%m.%Y %H:%M}"


def person_name(user: User | None, t: Translate) -> str:
    """How a screen names who did something (not escaped)."""
    if user is None:
        return t(N_("the operator (command line)"))
    name = user.display_name or f"{user.first_name or ''} {user.last_name or ''}".strip()
    if not name and user.username:
        name = f"@{user.username}"
    return name or f"id {user.telegram_id}"


def _short(title: str) -> str:
    return fit_plain(title, LABEL_TITLE)


async def webinars_screen(
    user: User,
    t: Translate,
    *,
    clock: Clock,
    links: Links,
    live: LiveRooms,
    timezone: str,
    confirm_cancel: int = 0,
) -> Screen:
    """The list for `user`; `confirm_cancel` asks "really cancel?" for that webinar."""
    caps = await capabilities_of(user)
    zone = await zone_of(user, timezone)
    webinars = await upcoming(clock, limit=LIST_LIMIT)
    lines = [f"<b>{html.escape(t(N_('Webinars')))}</b>"]
    rows: list[tuple[Button, ...]] = []
    if not webinars:
        lines.append(html.escape(t(N_("No live or upcoming webinars."))))
    for webinar in webinars:
        lines.append("")
        lines += await _describe(webinar, t, zone, live)
        rows += _controls(webinar, user, t, caps, links, confirm_cancel)
    last = [Button("🔄 " + t(N_("Refresh")), callback=WebinarsRefresh().pack())]
    if Capability.WEBINAR_CREATE in caps:
        last.insert(
            0, Button("➕ " + t(N_("New webinar")), callback=WebinarDialog(action="new").pack())
        )
    if await any_series():  # the AUTO webinars' schedules: their own screen
        data = AutoSeriesScreen(action="open").pack()
        last.append(Button("📼 " + t(N_("AUTO webinars")), callback=data))
    rows.append(tuple(last))
    is_live = any(WebinarStatus(w.status) is WebinarStatus.LIVE for w in webinars)
    return Screen("\n".join(lines), tuple(rows), is_live)


async def _describe(webinar: Webinar, t: Translate, zone: str, live: LiveRooms) -> list[str]:
    status = WebinarStatus(webinar.status)
    word = html.escape(t(STATUS_WORDS[status]))
    head = f"{ICONS[status]} <b>{html.escape(webinar.title)}</b> — {word}"
    when = f"{local_time(webinar.starts_at, zone)} ({html.escape(zone)})"
    kind = StreamType(webinar.stream_type).value
    lines = [head, f"{when} · {kind} · {webinar.duration_min} " + html.escape(t(N_("min")))]
    if status is WebinarStatus.LIVE:
        counts = t(N_("In the room: {viewers} · chat messages: {messages}")).format(
            viewers=live.viewers(webinar.id), messages=await message_count(webinar.id)
        )
        lines.append("👥 " + html.escape(counts))
        if webinar.offer_open:
            lines.append("📣 " + html.escape(t(N_("The form is shown in the room."))))
    return lines


def _controls(
    webinar: Webinar,
    user: User,
    t: Translate,
    caps: frozenset[Capability] | set[Capability],
    links: Links,
    confirm_cancel: int,
) -> list[tuple[Button, ...]]:
    status = WebinarStatus(webinar.status)
    title = _short(webinar.title)

    def act(label: str, action: str) -> Button:
        data = WebinarAction(webinar_id=webinar.id, action=action).pack()  # type: ignore[arg-type]
        return Button(f"{label} · {title}", callback=data)

    rows: list[tuple[Button, ...]] = []
    if Capability.WEBINAR_MANAGE_STATUS in caps:
        if confirm_cancel == webinar.id and status is WebinarStatus.SCHEDULED:
            rows.append(
                (
                    act("⚠️ " + t(N_("Yes, cancel it")), "cancel_yes"),
                    Button("↩️ " + t(N_("No")), callback=WebinarsRefresh().pack()),
                )
            )
        elif status is WebinarStatus.SCHEDULED:
            rows.append(
                (act("▶️ " + t(N_("Start")), "start"), act("✖️ " + t(N_("Cancel")), "cancel"))
            )
        elif status is WebinarStatus.LIVE:
            rows.append((act("⏹ " + t(N_("Stop")), "stop"),))
    if Capability.WEBINAR_MANAGE_CHAT in caps and status is WebinarStatus.LIVE:
        # The speaker's call to action (`core/offers.py`): shown in every open room at once.
        if webinar.offer_open:
            data = WebinarOffer(webinar_id=webinar.id, action="close").pack()
            rows.append((Button(f"🙈 {t(N_('Close offer'))} · {title}", callback=data),))
        else:
            data = WebinarOffer(webinar_id=webinar.id, action="open").pack()
            rows.append((Button(f"📣 {t(N_('Open offer'))} · {title}", callback=data),))
    more: list[Button] = []
    if Capability.WEBINAR_MANAGE_CHAT in caps:
        more.append(Button("🎙 " + t(N_("Room")), url=links.speaker_room_link(webinar, user.id)))
        has_chat = StreamType(webinar.stream_type) is StreamType.OBS and webinar.chat_enabled
        if status is WebinarStatus.LIVE and has_chat:
            data = ChatModeration(webinar_id=webinar.id, action="show").pack()
            more.append(Button("💬 " + t(N_("Chat")), callback=data))
    if Capability.WEBINAR_CREATE in caps:
        data = WebinarDialog(action="edit", webinar_id=webinar.id).pack()
        more.append(Button("✏️ " + t(N_("Edit")), callback=data))
    if more:
        rows.append(tuple(more))
    return rows
