"""/stats: funnel counts for a period over the user's lead scope, with the fake clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.clock import FakeClock
from core.scope import scope_of
from core.stats import Period, funnel_stats, period_start
from models import Application, EventRecord, LeadEntry, Review, Role, User
from sandbox import FakeTelegram
from tests.bot_support import tick
from tests.test_admin_users import press, say, start

DAY = 86400


async def funnel(clock: FakeClock, pavel: User) -> None:
    """Leads of Pavel's and one of nobody's, at different times, with their events."""
    now = clock.now()

    async def lead(source: str, ago: float, partner: User | None, **more: Any) -> LeadEntry:
        at = int(now - ago)
        return await LeadEntry.create(
            lead_source=source,
            first_touch_at=at,
            lead_created_at=at,
            updated_at=at,
            partner_id=partner.id if partner else None,
            **more,
        )

    async def event(name: str, lead: LeadEntry, ago: float, **payload: Any) -> None:
        payload |= {"lead_id": lead.id, "webinar_id": "w1", "timestamp": int(now - ago)}
        await EventRecord.create(name=name, payload=payload, lead_id=lead.id, created_at=now - ago)

    zoe = await User.create(telegram_id=555, created_at=now, updated_at=now)
    a = await lead("web_form", 3600, pavel, user_id=zoe.id, chat_id=555)
    b = await lead("telegram", 3 * DAY, pavel)
    c = await lead("web_form", 20 * DAY, None)
    await lead("web_form", 60 * DAY, pavel)
    await event("core_lead_bound", a, 1800)
    await event("core_lead_bound", c, 20 * DAY)
    await event("client_webinar_registered", a, 100)
    await event("client_webinar_registered", a, 50, webinar_id="w2")  # the same lead again
    await event("client_webinar_registered", b, 2 * DAY)
    await event("client_webinar_attendance_classified", a, 10, attendance="attended")
    await event("client_webinar_attendance_classified", b, DAY, attendance="not_attended")
    await Application.create(
        user_id=zoe.id, status=Review.APPROVED, created_at=now - 60, decided_at=now - 30
    )
    other = await User.create(telegram_id=556, created_at=now, updated_at=now)
    await Application.create(user_id=other.id, created_at=now - 10 * DAY)


async def test_counts_per_period_and_scope(database_url: str, clock: FakeClock) -> None:
    now = clock.now()
    pavel = await User.create(telegram_id=1, role=Role.PARTNER, created_at=now, updated_at=now)
    admin = await User.create(telegram_id=2, role=Role.ADMIN, created_at=now, updated_at=now)
    await funnel(clock, pavel)

    async def counts(user: User, period: Period) -> tuple[Any, ...]:
        since = period_start(period, clock, "Europe/Moscow")
        s = await funnel_stats(await scope_of(user), since, clock.now())
        return (s.new_by_source, s.bound, s.registered, s.attended, s.applied, s.approved)

    # 2027-01-15 11:00 in Moscow: today began 11 hours ago
    assert period_start(Period.TODAY, clock, "Europe/Moscow") == now - 11 * 3600
    assert await counts(admin, Period.TODAY) == ({"web_form": 1}, 1, 1, 1, 1, 1)
    assert await counts(admin, Period.WEEK) == ({"telegram": 1, "web_form": 1}, 1, 2, 1, 1, 1)
    assert await counts(admin, Period.MONTH) == ({"telegram": 1, "web_form": 2}, 2, 2, 1, 2, 1)
    assert await counts(admin, Period.ALL) == ({"telegram": 1, "web_form": 3}, 2, 2, 1, 2, 1)
    # Pavel sees his own leads only (not c, not the other application)
    assert await counts(pavel, Period.ALL) == ({"telegram": 1, "web_form": 2}, 1, 2, 1, 1, 1)
    clock.advance(13 * 3600)  # past midnight in Moscow: a new day
    assert await counts(pavel, Period.TODAY) == ({}, 0, 0, 0, 0, 0)


async def test_stats_in_the_bot(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    pavel_tg = fake.create_user("Pavel", language_code="en")
    zed = fake.create_user("Zed", language_code="en")
    now = clock.now()
    pavel = await User.create(
        telegram_id=pavel_tg.id, role=Role.PARTNER, created_at=now, updated_at=now
    )
    await funnel(clock, pavel)
    async with product() as rt:
        await start(fake, pavel_tg.id)
        await start(fake, zed.id)
        (refused,) = await say(fake, zed.id, "/stats")
        assert "leads_view_own / leads_view_team / leads_view_all" in refused["text"]

        (today,) = await say(fake, pavel_tg.id, "/stats")
        assert today["text"].startswith("Funnel: Today\n\nNew leads: 1\n  web_form: 1\n")
        assert "Registered for a webinar: 1" in today["text"]
        await press(fake, pavel_tg.id, today["message_id"], "stats:all")
        await tick(rt)
        shown = fake.messages(pavel_tg.id)[-1]
        assert shown["message_id"] == today["message_id"]  # edited in place
        assert shown["text"].splitlines() == [
            "Funnel: All time",
            "",
            "New leads: 3",
            "  telegram: 1",
            "  web_form: 2",
            "Bound to Telegram: 1",
            "Registered for a webinar: 2",
            "Attended: 1",
            "Applied to become a partner: 1",
            "Approved: 1",
        ]
