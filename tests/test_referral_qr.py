"""/ref: the QR code of the partner's web link, and the whole funnel of their links."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import segno

from core.applications import apply, decide
from core.clock import FakeClock
from core.referrals import funnel_of
from models import EventRecord, LeadEntry, OutboxMessage, Role, User
from sandbox import FakeTelegram
from tests.bot_support import tick
from tests.review_support import someone


def expected_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


async def test_ref_sends_the_qr_code_of_the_web_link(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        pavel, _ = await someone(rt, fake, clock, "Pavel", Role.PARTNER)
        sent = fake.send_text(pavel.id, "/ref")
        links, qr = await fake.wait_for_messages(pavel.id, 2, after=sent["message_id"])
        code = (await User.get(telegram_id=pavel.id)).ref_code
        url = f"{rt.links.base_url}/r/{code}"
        assert url in links["text"]
        assert (
            "→ registered for a webinar: 0 · attended: 0 · applied: 0 (approved: 0)"
            in (links["text"])
        )
        assert qr["caption"].endswith(url)
        stored = fake.world.files[qr["photo"][0]["file_id"]]
        assert stored.data.startswith(b"\x89PNG\r\n\x1a\n")
        assert stored.data == expected_png(url)
        # What the outbox stored is the same image (it survives a restart).
        row = await OutboxMessage.get(method="sendPhoto")
        assert base64.b64decode(row.payload["_upload"]["b64"]) == expected_png(url)


async def _lead(clock: FakeClock, partner: User, user: User | None = None) -> LeadEntry:
    now = int(clock.now())
    return await LeadEntry.create(
        lead_source="web_form",
        first_touch_at=now,
        lead_created_at=now,
        updated_at=now,
        partner_id=partner.id,
        user_id=user.id if user else None,
        chat_id=user.chat_id if user else None,
    )


async def _logged(clock: FakeClock, name: str, lead: LeadEntry, **payload: Any) -> None:
    # The webinar events are not emitted yet: written as the log will hold them.
    body = {"lead_id": lead.id, "webinar_id": "w1", "timestamp": int(clock.now()), **payload}
    await EventRecord.create(
        name=name, payload=body, lead_id=lead.id, webinar_id="w1", created_at=clock.now()
    )


async def test_the_funnel_counts_registered_attended_and_applied(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        pavel, pavel_user = await someone(rt, fake, clock, "Pavel", Role.PARTNER)
        _, other = await someone(rt, fake, clock, "Olga", Role.PARTNER)
        _, zoe = await someone(rt, fake, clock, "Zoe")
        _, max_ = await someone(rt, fake, clock, "Max")
        a = await _lead(clock, pavel_user, zoe)
        b = await _lead(clock, pavel_user, max_)
        c = await _lead(clock, pavel_user)
        elsewhere = await _lead(clock, other)
        for lead in (a, b, c, elsewhere):
            await _logged(clock, "client_webinar_registered", lead)
        await _logged(clock, "client_webinar_registered", a)  # a second webinar: one person
        await _logged(clock, "client_webinar_entered", a)
        await _logged(clock, "client_webinar_attendance_classified", a, attendance="attended")
        await _logged(clock, "client_webinar_attendance_classified", b, attendance="attended")
        await _logged(clock, "client_webinar_attendance_classified", c, attendance="not_attended")
        await _logged(clock, "client_webinar_entered", elsewhere)
        first = await apply(rt.hub, clock, zoe, text="me")
        assert first.application_id is not None
        await apply(rt.hub, clock, max_, via="room")
        await decide(rt.hub, clock, first.application_id, True, actor=None)

        funnel = await funnel_of(pavel_user)
        assert (funnel.leads, funnel.in_telegram) == (3, 2)
        assert (funnel.registered, funnel.attended, funnel.applied, funnel.approved) == (
            3,
            2,
            2,
            1,
        )
        await tick(rt)  # Pavel hears that Zoe joined his team
        sent = fake.send_text(pavel.id, "/ref")
        links, _ = await fake.wait_for_messages(pavel.id, 2, after=sent["message_id"])
        assert "Visits: 0 · leads: 3 · in Telegram: 2" in links["text"]
        assert (
            "→ registered for a webinar: 3 · attended: 2 · applied: 2 (approved: 1)"
            in (links["text"])
        )
