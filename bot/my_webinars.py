"""/webinars for everyone who does not run webinars: the webinars they registered for.

Live and coming ones first, each with the same personal room button as the confirmation;
past ones with their recording when there is one. Someone who registered for nothing is
told so and where to register. Speakers (`webinar_manage_status`) get their own
`/webinars`, the control screen: this router lets their message through untouched.
"""

from __future__ import annotations

import html
from typing import Final

from aiogram.filters import Command
from aiogram.types import Message

from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from core.clock import Clock
from core.links import Links
from core.roles import Capability, capabilities_of
from core.webinars import next_scheduled
from delivery.outbox import Button
from handlers.webinar_notices import local_time, registrations_of, room_button
from locales import N_
from models import User, WebinarStatus

router: Final[Routes] = Routes(__name__)

SHOWN = 10  # the latest registrations shown; Telegram's buttons are not a list screen


async def runs_no_webinars(message: Message, user: User) -> bool:
    """Whoever cannot start and stop webinars (their /webinars is the control screen)."""
    return Capability.WEBINAR_MANAGE_STATUS not in await capabilities_of(user)


@router.message(Command("webinars"), runs_no_webinars)
async def my_webinars(
    message: Message,
    user: User,
    t: Translate,
    locale: str,
    reply: Reply,
    links: Links,
    clock: Clock,
) -> None:
    registered = (await registrations_of(user.id))[:SHOWN]
    if not registered:
        await reply(await _nothing_yet(t, links, clock))
        return
    lines = [f"<b>{html.escape(t(N_('Webinars you registered for')))}</b>", ""]
    buttons: list[tuple[Button, ...]] = []
    for webinar, lead in registered:
        status = WebinarStatus(webinar.status)
        title = f"<b>{html.escape(webinar.title)}</b>"
        if status is WebinarStatus.LIVE:
            lines.append(f"🔴 {title} — {html.escape(t(N_('on air now')))}")
        elif status is WebinarStatus.SCHEDULED:
            lines.append(f"🗓 {title}\n{local_time(webinar.starts_at, webinar, lead.tz, t, locale)}")
        elif status is WebinarStatus.FINISHED:
            lines.append(f"✔️ {title} — {html.escape(t(N_('took place')))}")
        else:
            lines.append(f"❌ {title} — {html.escape(t(N_('cancelled, sorry')))}")
        lines.append("")
        if status in (WebinarStatus.LIVE, WebinarStatus.SCHEDULED):
            label = f"🚪 {webinar.title}"
            buttons.append((room_button(links, webinar, lead.id, reply.chat_id, label),))
        elif status is WebinarStatus.FINISHED and webinar.recording_url:
            label = f"▶️ {t(N_('Watch the recording'))}: {webinar.title}"
            buttons.append((Button(label, url=webinar.recording_url),))
    await reply("\n".join(lines).strip(), tuple(buttons))


async def _nothing_yet(t: Translate, links: Links, clock: Clock) -> str:
    text = html.escape(t(N_("You are not registered for any webinar yet.")))
    coming = await next_scheduled(clock)
    if coming is None:
        return (
            f"{text}\n{html.escape(t(N_('When a webinar is planned, its invitation comes here.')))}"
        )
    how = html.escape(t(N_("To register, fill in the form on the webinar's page:")))
    page = links.page_url(coming)
    return f'{text}\n{how}\n<a href="{html.escape(page)}">{html.escape(coming.title)}</a>'
