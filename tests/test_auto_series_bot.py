"""The AUTO webinars' screen over the fake Bot API: reached from `/webinars`, it shows the
coming sessions with their registrations; Pause removes the sessions nobody registered
for, keeps the others, and the scheduler's planning then creates none; Resume plans
again. Someone without the capability gets the usual refusal and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.access import refusal
from core.auto_webinars import AutoDraft, create_auto_series
from core.clock import FakeClock
from core.roles import Capability as C
from models import AutoSeries, Role, Webinar
from sandbox import FakeTelegram
from scheduler.auto import AutoSessions
from tests.bot_support import tick
from tests.room_support import make_lead, register
from tests.test_admin_users import forge, press, say
from tests.test_bot_webinars import FAST, buttons_of, en, person

DAY = 24 * 3600


async def statuses(series_id: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for status in await Webinar.filter(series_id=series_id).values_list("status", flat=True):
        found[str(status)] = found.get(str(status), 0) + 1
    return found


async def test_the_screen_shows_sessions_and_pause_stops_planning_until_resumed(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product(**FAST) as rt:
        draft = AutoDraft(
            title="Авто <b>вебинар</b>",
            schedule="daily 19:00",
            tz="Europe/Moscow",
            recording_url="https://cdn.example.com/rec/webinar.m3u8",
            recording_duration="60",
        )
        series = await create_auto_series(
            rt.hub, clock, draft, actor=None, default_tz="Europe/Moscow"
        )
        auto = AutoSessions(rt.hub, clock, plan_every=0)
        await auto.tick()
        sessions = await Webinar.filter(series_id=series.id).order_by("starts_at")
        assert len(sessions) == 7  # a week of evenings, 15.01 … 21.01.2027
        for name in ("Анна", "Борис"):
            await register(rt.hub, clock, sessions[0], await make_lead(clock, name))
        await register(rt.hub, clock, sessions[2], await make_lead(clock, "Вера"))

        mary = await person(fake, "Mary", Role.SPEAKER)
        (listing,) = await say(fake, mary.id, "/webinars")
        assert buttons_of(listing)["was:open:0"] == "📼 AUTO webinars"
        await press(fake, mary.id, listing["message_id"], "was:open:0")
        await tick(rt)
        screen = fake.bot_messages(mary.id)[-1]
        assert screen["message_id"] != listing["message_id"]  # its own message
        assert "📼 Авто <b>вебинар</b> — running" in screen["text"]  # text, not markup
        assert "coming sessions: 7 · registered: 3" in screen["text"]

        mid = screen["message_id"]
        await press(fake, mary.id, mid, f"was:show:{series.id}")
        await tick(rt)
        shown = fake.world.chat(mary.id).messages[mid]["text"]
        assert "🗓 15.01.2027 19:00 — scheduled · registered: 2" in shown
        assert "🗓 17.01.2027 19:00 — scheduled · registered: 1" in shown
        assert "🗓 16.01.2027 19:00 — scheduled · registered: 0" in shown
        assert "Times in Europe/Moscow." in shown
        assert f"was:pause:{series.id}" in buttons_of(fake.world.chat(mary.id).messages[mid])

        # Someone without the capability forging Pause: refused, nothing changes.
        paul = await person(fake, "Paul", Role.PARTNER)
        pid = fake.bot_messages(paul.id)[-1]["message_id"]
        answer = await forge(fake, paul, pid, f"was:pause:{series.id}")
        assert answer["text"] == refusal(en, C.WEBINAR_MANAGE_STATUS)
        assert not (await AutoSeries.get(id=series.id)).paused
        (refused,) = await say(fake, paul.id, "/series")
        assert refused["text"] == refusal(en, C.WEBINAR_MANAGE_STATUS)
        (by_command,) = await say(fake, mary.id, "/series")  # the same list, by command
        assert "coming sessions: 7 · registered: 3" in by_command["text"]

        answer = await press(fake, mary.id, mid, f"was:pause:{series.id}")
        assert answer["text"] == (
            "Paused: no new sessions. Removed 5 without registrations; "
            "2 with registrations still take place."
        )
        assert await statuses(series.id) == {"scheduled": 2}
        await tick(rt)
        shown = fake.world.chat(mary.id).messages[mid]
        assert "— paused" in shown["text"]
        assert "coming sessions: 2 · registered: 3" in shown["text"]
        assert f"was:resume:{series.id}" in buttons_of(shown)
        again = await forge(fake, mary, mid, f"was:pause:{series.id}")  # a stale client
        assert again["text"] == "It was paused already."

        # Three days on, the scheduler's planning creates nothing for a paused series,
        # and the sessions with registrations still run.
        clock.advance(3 * DAY)
        await auto.tick()
        assert await statuses(series.id) == {"finished": 2}

        answer = await press(fake, mary.id, mid, f"was:resume:{series.id}")
        assert answer["text"] == "Resumed: 7 new sessions planned."
        assert await statuses(series.id) == {"finished": 2, "scheduled": 7}  # 18.01 … 24.01
        clock.advance(DAY)
        await auto.tick()  # the 18th has run, and the planning goes on (the 25th)
        assert await statuses(series.id) == {"finished": 3, "scheduled": 7}
