"""After a webinar: each partner's one notice of their leads' attendance and the speaker's
summary, sent once the last registrant is classified, once, with names escaped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.clock import FakeClock
from core.events import ClientWebinarFormSubmitted
from core.webinars import set_status
from models import Role, User, WebinarRegistration, WebinarStatus
from sandbox import FakeTelegram
from tests.room_support import make_lead, make_user, make_webinar, register
from tests.webinar_flow_support import Person, classified, emit
from tests.webinar_flow_support import texts as all_texts

# A partner also hears of each registration (tests/test_webinar_notices.py): not counted.
REGISTERED = "📝 "


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [t for t in all_texts(fake, chat_id) if not t.startswith(REGISTERED)]


async def test_partners_and_the_speaker_get_one_report_each_after_the_last_classification(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        chats = {}
        for name in ("Пётр", "Полина", "Сергей"):
            chats[name] = fake.create_user(name, language_code="ru")
            chats[name].started = True
        p1 = await make_user(clock, chats["Пётр"].id, Role.PARTNER, chat_id=chats["Пётр"].id)
        p2 = await make_user(clock, chats["Полина"].id, Role.PARTNER, chat_id=chats["Полина"].id)
        webinar = await make_webinar(
            rt.hub, clock, reminders="off", speaker=str(chats["Сергей"].id)
        )
        await User.filter(telegram_id=chats["Сергей"].id).update(chat_id=chats["Сергей"].id)
        anna = await make_lead(clock, "Анна", partner_id=p1.id)
        boris = await make_lead(clock, "<b>Борис</b> & Co", partner_id=p1.id)
        vera = await make_lead(clock, "Вера", partner_id=p2.id)
        dmitry = await make_lead(clock, "Дмитрий")  # no partner: in the speaker's figures
        for lead in (anna, boris, vera, dmitry):
            await register(rt.hub, clock, webinar, lead)
        clock.advance(webinar.starts_at - clock.now())
        await set_status(rt.hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
        for lead in (anna, boris, dmitry):
            await WebinarRegistration.filter(lead_id=lead.id).update(entered_at=clock.now())
        clock.advance(90 * 60)
        # What the room's presence flushed: the classifier reads it when the webinar ends.
        for lead, minutes in ((anna, 45), (boris, 3), (dmitry, 30)):
            await WebinarRegistration.filter(webinar_id=webinar.id, lead_id=lead.id).update(
                seconds_present=minutes * 60, last_seen_at=clock.now()
            )
        form = ClientWebinarFormSubmitted(
            timestamp=int(clock.now()), webinar_id=webinar.webinar_id, lead_id=anna.id
        )
        await emit(rt, form)
        # Only the form is told at once (to Anna's partner); the reports wait for the end.
        (sent_form,) = texts(fake, chats["Пётр"].id)
        assert sent_form.startswith("🙋 Ваш лид отправил форму в комнате вебинара\nИмя: Анна")
        for name in ("Полина", "Сергей"):
            assert texts(fake, chats[name].id) == []

        await set_status(rt.hub, clock, webinar.id, WebinarStatus.FINISHED, actor=None)
        await emit(rt)  # the classification, then the reports
        # A classification delivered again sends nothing twice.
        await emit(rt, classified(clock, webinar, Person(dmitry, 0), "attended", 30))

        (_, petr) = texts(fake, chats["Пётр"].id)
        assert petr.splitlines()[0] == "📊 Вебинар «Как стать партнёром»: ваши лиды"
        assert "Зарегистрировались: 2" in petr
        assert "Зашли в комнату: 2" in petr
        assert "Были на вебинаре: 1" in petr
        assert "Не были на вебинаре: 1" in petr
        assert "Среднее время в комнате: 24 мин" in petr
        assert "Отправили форму: 1" in petr
        assert "✅ Анна: 45 мин" in petr
        assert "❌ <b>Борис</b> & Co: 3 мин" in petr  # shown as typed, not as markup
        assert "Вера" not in petr
        assert "Дмитрий" not in petr
        (polina,) = texts(fake, chats["Полина"].id)
        assert "❌ Вера: 0 мин" in polina
        assert "Зарегистрировались: 1" in polina
        assert "Отправили форму: 0" in polina
        (summary,) = texts(fake, chats["Сергей"].id)
        assert summary.splitlines()[0] == "📊 Вебинар «Как стать партнёром» завершён: итоги"
        for line in (
            "Зарегистрировались: 4",
            "Зашли в комнату: 3",
            "Были на вебинаре: 2",
            "Не были на вебинаре: 2",
            "Среднее время в комнате: 26 мин",
            "Отправили форму: 1",
        ):
            assert line in summary
        assert "Анна" not in summary


async def test_broadcast_segments_by_webinar_and_attendance(
    database_url: str, hub: Any, clock: FakeClock
) -> None:
    from core.broadcasts import check_complete, parse_segment, recipients

    first = await make_webinar(hub, clock, reminders="off")
    second = await make_webinar(hub, clock, reminders="off", title="Второй")
    anna = await make_lead(clock, "Анна", chat_id=501)
    boris = await make_lead(clock, "Борис", chat_id=502)
    vera = await make_lead(clock, "Вера", chat_id=503)
    for webinar, lead in ((first, anna), (first, boris), (second, vera)):
        await register(hub, clock, webinar, lead)
    async with hub.transaction() as tx:
        for webinar, lead, result in ((first, anna, "attended"), (first, boris, "not_attended")):
            await tx.publish(classified(clock, webinar, Person(lead, 0), result, 30))

    segment = parse_segment("registered", "", first.id)
    assert segment == {"kind": "registered", "webinar": first.webinar_id}
    check_complete(segment, "Hello")
    assert await recipients(segment) == [501, 502]
    assert await recipients({"kind": "registered"}) == [501, 502, 503]
    attended = parse_segment("attendance", "attended", first.id)
    assert attended is not None
    assert await recipients(attended) == [501]
    missed = parse_segment("attendance", "not_attended", second.id)
    assert missed is not None
    assert await recipients(missed) == []
    assert parse_segment("role", "partner", first.id) is None
