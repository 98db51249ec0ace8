"""/ref: a partner's own links, their QR code, and how many people came through them."""

from __future__ import annotations

import html
import io
from typing import Final

import segno
from aiogram.filters import Command
from aiogram.types import Message

from bot.access import allowed
from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from core.links import Links
from core.referrals import ensure_ref_code, funnel_of
from core.roles import Capability
from handlers.binding import REF_PREFIX
from locales import N_
from models import User

router: Final[Routes] = Routes(__name__)


@router.message(Command("ref"))
async def show_links(
    message: Message, user: User, t: Translate, links: Links, reply: Reply
) -> None:
    if not await allowed(user, Capability.LEADS_VIEW_OWN, t, reply):
        return
    code = await ensure_ref_code(user)
    funnel = await funnel_of(user)

    def row(label: str, value: str) -> str:
        return f"{html.escape(t(label))}: {html.escape(value)}"

    counts = t(N_("Visits: {visits} · leads: {leads} · in Telegram: {in_telegram}"))
    later = t(
        N_(
            "→ registered for a webinar: {registered} · attended: {attended} · "
            "applied: {applied} (approved: {approved})"
        )
    )
    web_link = f"{links.base_url}/r/{code}"
    lines = [
        f"<b>{html.escape(t(N_('Your referral links')))}</b>",
        row(N_("Web (counts visits)"), web_link),
        row(N_("Registration form"), f"{links.base_url}/?ref={code}"),
        row("Telegram", links.start_link(REF_PREFIX + code)),
        "",
        html.escape(
            counts.format(visits=funnel.visits, leads=funnel.leads, in_telegram=funnel.in_telegram)
        ),
        html.escape(
            later.format(
                registered=funnel.registered,
                attended=funnel.attended,
                applied=funnel.applied,
                approved=funnel.approved,
            )
        ),
    ]
    await reply("\n".join(lines))
    caption = t(N_("QR code of your link (it counts the visit and opens the form): {url}"))
    await reply.file(
        "ref-qr.png",
        qr_png(web_link),
        caption=html.escape(caption.format(url=web_link)),
        photo=True,
    )


def qr_png(url: str) -> bytes:
    """A PNG QR code of `url`, large enough to print or to scan from a screen."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()
