"""Reminders before and during a webinar, end to end through the fake Bot API: each one
sent or skipped by its condition when it is due, the late registrant's one catch-up, a
moved start moving them, a cancelled webinar sending none, "we have started" only to
those who have not entered; and the post-webinar follow-ups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.clock import FakeClock
from core.webinar_rules import WebinarDraft
from core.webinars import edit_webinar, set_status
from models import LeadEntry, OutboxMessage, Priority, WebinarRegistration, WebinarStatus
from sandbox import FakeTelegram
from tests.webinar_flow_support import (
    at,
    buttons,
    emit,
    make_webinar,
    person,
    registered,
    route,
)

H = 3600
# The registration's confirmation and the cancellation and new-time notices are
# tests/test_webinar_notices.py's: here only what the reminder scenarios send.
NOTICES = ("✅ ", "❌ ", "🕒 ")


def messages(fake: FakeTelegram, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in fake.bot_messages(chat_id) if not m.get("text", "").startswith(NOTICES)]


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.get("text", "") for m in messages(fake, chat_id)]


REMINDER = "⏰ {name}, вебинар «Как стать партнёром» начнётся через {left}"
CATCH_UP = "⏰ {name}, вебинар «Как стать партнёром» скоро начнётся — через {left}"
STARTED = "🔴 {name}, вебинар «Как стать партнёром» начался!"


def reminder(name: str, left: str) -> str:
    return REMINDER.format(name=name, left=left)


async def test_reminders_go_at_24h_1h_10m_and_we_have_started_only_to_who_is_not_in(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        webinar = await make_webinar(rt.hub, clock)
        start = webinar.starts_at
        anna = await person(rt, fake, clock, "Анна")
        boris = await person(rt, fake, clock, "Борис")
        await registered(rt, clock, webinar, anna, boris)
        assert texts(fake, anna.chat_id) == []

        await at(rt, clock, start - 24 * H - 1)
        assert texts(fake, anna.chat_id) == []
        await at(rt, clock, start - 24 * H)
        got = texts(fake, anna.chat_id)
        assert [t[: len(reminder("Анна", "24 ч"))] for t in got] == [reminder("Анна", "24 ч")]
        assert "(Europe/Moscow)" in got[0]
        (message,) = messages(fake, anna.chat_id)
        ((label, url),) = buttons(message)
        assert label == "🎥 Открыть комнату вебинара"
        assert url.startswith(f"{rt.links.base_url}/t/{webinar.id}/")
        assert rt.links.room_link(webinar, anna.lead.id) == url

        await at(rt, clock, start - H)
        await at(rt, clock, start - 600)
        for who in (anna, boris):
            got = texts(fake, who.chat_id)
            assert len(got) == 3
            assert got[1].startswith(reminder(who.lead.name, "1 ч"))
            assert got[2].startswith(reminder(who.lead.name, "10 мин"))
        rows = await OutboxMessage.filter(chat_id=anna.chat_id)
        reminders = [r for r in rows if r.payload.get("text", "").startswith("⏰")]
        assert len(reminders) == 3
        assert {r.priority for r in reminders} == {Priority.CRITICAL}

        await at(rt, clock, start)
        await set_status(rt.hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
        await WebinarRegistration.filter(lead_id=boris.lead.id).update(entered_at=clock.now())
        await at(rt, clock, start + 299)
        assert len(texts(fake, anna.chat_id)) == 3
        await at(rt, clock, start + 300)
        got = texts(fake, anna.chat_id)
        assert len(got) == 4
        assert got[3].startswith(STARTED.format(name="Анна"))
        ((label, url),) = buttons(messages(fake, anna.chat_id)[3])
        assert url == rt.links.room_link(webinar, anna.lead.id)
        assert len(texts(fake, boris.chat_id)) == 3  # Boris is in the room: nothing

        await at(rt, clock, start + 3 * H)
        assert len(texts(fake, anna.chat_id)) == 4


async def test_late_registrants_skip_what_is_past_and_the_latest_get_one_catch_up(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        webinar = await make_webinar(rt.hub, clock)
        start = webinar.starts_at
        vera = await person(rt, fake, clock, "Вера")
        await at(rt, clock, start - 2 * H)  # 24 h is past: only 1 h and 10 min
        await registered(rt, clock, webinar, vera)
        assert texts(fake, vera.chat_id) == []

        await at(rt, clock, start - H)
        gleb = await person(rt, fake, clock, "Глеб")
        await at(rt, clock, start - 30 * 60)  # only 10 min is ahead
        await registered(rt, clock, webinar, gleb)
        assert texts(fake, gleb.chat_id) == []

        await at(rt, clock, start - 600)
        dina = await person(rt, fake, clock, "Дина")
        await at(rt, clock, start - 5 * 60)  # every reminder is past: one catch-up
        await registered(rt, clock, webinar, dina)
        got = texts(fake, dina.chat_id)
        assert len(got) == 1
        assert got[0].startswith(CATCH_UP.format(name="Дина", left="5 мин"))

        await at(rt, clock, start + 3 * H)  # the webinar never went live
        assert [t[:9] for t in texts(fake, vera.chat_id)] == ["⏰ Вера, в"] * 2
        assert texts(fake, vera.chat_id)[0].startswith(reminder("Вера", "1 ч"))
        assert len(texts(fake, gleb.chat_id)) == 1
        assert texts(fake, gleb.chat_id)[0].startswith(reminder("Глеб", "10 мин"))
        assert len(texts(fake, dina.chat_id)) == 1


async def test_a_moved_start_moves_the_reminders_without_repeating_or_losing_one(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        webinar = await make_webinar(rt.hub, clock)
        old = webinar.starts_at
        anna = await person(rt, fake, clock, "Анна")
        await registered(rt, clock, webinar, anna)
        await at(rt, clock, old - 24 * H)
        assert len(texts(fake, anna.chat_id)) == 1

        await at(rt, clock, old - 20 * H)
        moved = WebinarDraft(start="2027-01-22T19:00", reminders="24h,2h")
        await edit_webinar(rt.hub, clock, webinar.id, moved, actor=None)
        await at(rt, clock, clock.now())
        new = old + 2 * 24 * H
        # The update delivered again (a restart before it was marked done) is the same round.
        await rt.engine.restart("webinar_reminders", webinar.webinar_id, "replayed")
        await rt.engine.restart("webinar_reminders", webinar.webinar_id, "replayed")

        for moment in (old - H, old - 600, old + 300):
            await at(rt, clock, moment)
        assert len(texts(fake, anna.chat_id)) == 1  # nothing at the old times

        await at(rt, clock, new - 24 * H)
        await at(rt, clock, new - 2 * H)
        await at(rt, clock, new - 600)  # 10 min is no longer one of the offsets
        got = texts(fake, anna.chat_id)
        assert len(got) == 3
        assert got[1].startswith(reminder("Анна", "24 ч"))
        assert got[2].startswith(reminder("Анна", "2 ч"))


async def test_a_cancelled_webinar_sends_no_reminder(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        webinar = await make_webinar(rt.hub, clock)
        start = webinar.starts_at
        anna = await person(rt, fake, clock, "Анна")
        await registered(rt, clock, webinar, anna)
        await at(rt, clock, start - 24 * H)
        assert len(texts(fake, anna.chat_id)) == 1
        await set_status(rt.hub, clock, webinar.id, WebinarStatus.CANCELLED, actor=None)
        for moment in (start - H, start - 600, start + 300, start + 3 * H):
            await at(rt, clock, moment)
        assert len(texts(fake, anna.chat_id)) == 1


async def test_post_webinar_routes_to_the_follow_ups_with_and_without_a_recording(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        recording = "https://video.example.com/r/1?a=1&b=2"
        held = await make_webinar(rt.hub, clock, reminders="off")
        await edit_webinar(
            rt.hub, clock, held.id, WebinarDraft(recording_url=recording), actor=None
        )
        bare = await make_webinar(rt.hub, clock, reminders="off", title="Без записи")
        anna = await person(rt, fake, clock, "Анна")
        boris = await person(rt, fake, clock, "Борис")
        await registered(rt, clock, held, anna, boris)
        await registered(rt, clock, bare, boris)
        await at(rt, clock, held.starts_at)
        for webinar in (held, bare):
            await set_status(rt.hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
        await at(rt, clock, held.starts_at + H)
        # Anna watched the whole of it (what the room's presence flushed); Boris never came.
        await WebinarRegistration.filter(webinar_id=held.id, lead_id=anna.lead.id).update(
            seconds_present=H, last_seen_at=clock.now()
        )
        for webinar in (held, bare):
            await set_status(rt.hub, clock, webinar.id, WebinarStatus.FINISHED, actor=None)
        await at(rt, clock, clock.now())  # classified, routed, followed up
        await emit(rt, route(clock, held, anna, "attended"))  # a replayed route: nothing

        # "We have started" went to both during the webinars; what follows them:
        (thanks,) = [t for t in texts(fake, anna.chat_id) if not t.startswith("🔴")]
        assert thanks.startswith("🙏 Анна, спасибо, что были с нами на вебинаре «Как стать")
        got = [m for m in messages(fake, boris.chat_id) if not m["text"].startswith("🔴")]
        assert len(got) == 2
        (offer,) = [m for m in got if "Как стать" in m["text"]]
        (missed,) = [m for m in got if "Без записи" in m["text"]]
        assert offer["text"].startswith("Борис, нам не хватало вас на вебинаре «Как стать")
        assert "Запись готова" in offer["text"]
        assert buttons(offer) == [("▶️ Смотреть запись", recording)]
        assert missed["text"].startswith("Борис, нам не хватало вас на вебинаре «Без записи»")
        assert "Запись" not in missed["text"]
        assert buttons(missed) == []


async def test_a_lead_without_a_chat_misses_the_reminders_due_before_they_open_the_bot(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        webinar = await make_webinar(rt.hub, clock)
        start = webinar.starts_at
        anna = await person(rt, fake, clock, "Анна")
        await LeadEntry.filter(id=anna.lead.id).update(chat_id=None)
        await registered(rt, clock, webinar, anna)
        await at(rt, clock, start - 24 * H)
        await at(rt, clock, start - 2 * H)
        await LeadEntry.filter(id=anna.lead.id).update(chat_id=anna.chat_id)
        await rt.engine.wake(anna.lead.id)  # what binding (core_lead_bound) does
        await at(rt, clock, start - 2 * H)
        assert texts(fake, anna.chat_id) == []  # no stale "24 hours" now
        await at(rt, clock, start - H)
        await at(rt, clock, start - 600)
        got = texts(fake, anna.chat_id)
        assert len(got) == 2
        assert got[0].startswith(reminder("Анна", "1 ч"))
