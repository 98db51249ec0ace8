"""The room live: status changes pushed to open rooms, the chat between viewers, its limits,
a reconnect that catches up once, and the speakers' moderation — through HTTP and the
rooms' live connections (Server-Sent Events)."""

from __future__ import annotations

from core.clock import FakeClock
from core.hub import SignalHub
from core.roles import Capability
from core.users import set_capability
from core.webinar_rules import WebinarDraft
from core.webinars import edit_webinar, set_status
from models import ChatMessage, ChatMute, EventRecord, Role, Webinar, WebinarStatus
from tests.room_support import Visitor, make_lead, make_user, make_webinar, register


async def viewer(room, people, clock, hub, webinar: Webinar, name: str) -> Visitor:
    lead = await make_lead(clock, name)
    await register(hub, clock, webinar, lead)
    visitor: Visitor = people()
    await visitor.enter(room.links.room_link(webinar, lead.id))
    visitor.lead = lead
    return visitor


async def speaker(room, people, clock, webinar: Webinar, telegram_id: int = 901) -> Visitor:
    user = await make_user(clock, telegram_id, Role.SPEAKER, first_name="Мария", last_name="Спикер")
    visitor: Visitor = people()
    await visitor.enter(room.links.speaker_room_link(webinar, user.id))
    visitor.user = user
    return visitor


async def live_webinar(hub: SignalHub, clock: FakeClock, **changes: str) -> Webinar:
    webinar = await make_webinar(hub, clock, **changes)
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    return await Webinar.get(id=webinar.id)


async def test_the_waiting_room_switches_to_live_when_the_speaker_starts(
    room, people, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar, "Анна")
    stream = await anna.stream()
    first = await stream.next()
    assert (first.kind, first.data["stage"]) == ("state", "scheduled")
    assert (await stream.next()).data == {"speaker": False, "muted": False}

    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)

    state = await stream.until("state")
    assert state.data["stage"] == "player"
    assert state.data["player"]["src"] == "https://cdn.example.com/live/stream.m3u8"
    assert state.data["chat"] is True

    # An edit while live (a new stream address) reaches the room as well.
    await edit_webinar(
        hub,
        clock,
        webinar.id,
        WebinarDraft(stream_url="https://cdn.example.com/b.m3u8"),
        actor=None,
    )
    assert (await stream.until("state")).data["player"]["src"] == "https://cdn.example.com/b.m3u8"

    await set_status(hub, clock, webinar.id, WebinarStatus.FINISHED, actor=None)
    finished = await stream.until("state")
    assert (finished.data["stage"], finished.data["chat"]) == ("finished", False)
    stream.close()


async def test_a_message_reaches_every_room_live_and_is_stored(
    room, people, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await live_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar, "Анна Петрова")
    boris = await viewer(room, people, clock, hub, webinar, "Борис")
    anna_stream, boris_stream = await anna.stream(), await boris.stream()
    await boris_stream.until("me")

    response = await anna.say("  Здравствуйте!\n\n\n\nКогда будет запись?  ")

    assert response.status == 200
    body = await response.json()
    expected = {
        "id": body["id"],
        "author": "Анна",  # the first name only
        "text": "Здравствуйте!\n\nКогда будет запись?",
        "at": clock.now(),
        "speaker": False,
    }
    for stream in (boris_stream, anna_stream):
        message = await stream.until("message")
        assert (message.data, message.id) == (expected, str(body["id"]))
    stored = await ChatMessage.get(id=body["id"])
    assert (stored.lead_id, stored.text) == (anna.lead.id, expected["text"])
    assert room.live.viewers(webinar.id) == 2
    anna_stream.close()
    boris_stream.close()


async def test_posting_needs_the_csrf_token(room, people, clock, hub) -> None:
    webinar = await live_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar, "Анна")

    missing = await anna.post(anna.data["urls"]["chat"], {"text": "hi"}, csrf="")
    forged = await anna.post(anna.data["urls"]["chat"], {"text": "hi"}, csrf="x" * 43)
    other_site = await anna.session.post(
        anna.base + anna.data["urls"]["chat"],
        json={"text": "hi"},
        headers={"X-CSRF-Token": anna.data["csrf"], "Origin": "https://evil.example"},
    )

    assert [r.status for r in (missing, forged, other_site)] == [403, 403, 403]
    assert (await missing.json())["ok"] is False
    assert await ChatMessage.all().count() == 0


async def test_a_flood_gets_a_notice_and_too_long_is_refused(room, people, clock, hub) -> None:
    webinar = await live_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar, "Анна")

    assert (await anna.say("x" * 501)).status == 400
    too_long = await anna.say("y" * 600)
    assert (await too_long.json())["notice"] == ("Сообщение может быть не длиннее 500 символов.")
    assert (await anna.say(" \u200b\n ")).status == 400  # nothing but invisible characters
    for n in range(5):
        assert (await anna.say(f"сообщение {n}")).status == 200
    flood = await anna.say("ещё одно")
    assert flood.status == 429
    assert flood.headers["Retry-After"] == "3"
    assert (await flood.json()) == {
        "ok": False,
        "notice": "Вы пишете слишком часто. Подождите 3 с и отправьте ещё раз.",
    }
    assert await ChatMessage.all().count() == 5
    clock.advance(3)
    assert (await anna.say("x" * 500)).status == 200  # exactly the limit, after the pause


async def test_a_reconnecting_room_gets_what_it_missed_once(room, people, clock, hub) -> None:
    webinar = await live_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar, "Анна")
    boris = await viewer(room, people, clock, hub, webinar, "Борис")
    maria = await speaker(room, people, clock, webinar)
    ids = [(await (await anna.say(f"m{n}")).json())["id"] for n in range(3)]

    stream = await boris.stream()
    seen = [await stream.until("message") for _ in range(3)]
    assert [e.data["text"] for e in seen] == ["m0", "m1", "m2"]
    last_id = seen[-1].id
    stream.close()  # Boris' connection drops …

    clock.advance(10)
    later = [(await (await anna.say(f"later {n}")).json())["id"] for n in range(2)]
    assert (await maria.moderate("delete", ids[1])).status == 200

    again = await boris.stream(last_event_id=last_id)  # … and his browser reconnects
    events = await again.quiet(0.5)
    messages = [e for e in events if e.kind == "message"]
    assert [(e.data["text"], int(e.id or 0)) for e in messages] == [
        ("later 0", later[0]),
        ("later 1", later[1]),
    ]
    assert [e.data for e in events if e.kind == "deleted"] == [{"ids": [ids[1]]}]
    again.close()

    fresh = await boris.stream()  # a new page: the last messages, without the deleted one
    texts = [e.data["text"] for e in await fresh.quiet(0.5) if e.kind == "message"]
    assert texts == ["m0", "m2", "later 0", "later 1"]
    fresh.close()


async def test_any_speaker_deletes_a_message_for_everyone_and_a_viewer_cannot(
    room, people, clock, hub
) -> None:
    webinar = await live_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar, "Анна")
    boris = await viewer(room, people, clock, hub, webinar, "Борис")
    maria = await speaker(room, people, clock, webinar)  # not this webinar's host
    anna_stream, boris_stream = await anna.stream(), await boris.stream()
    message_id = (await (await anna.say("реклама казино")).json())["id"]
    await boris_stream.until("message")

    refused = await boris.moderate("delete", message_id)
    assert refused.status == 403
    assert (await refused.json())["notice"] == "Модерировать чат могут только спикеры."

    done = await maria.moderate("delete", message_id)
    assert (await done.json()) == {"ok": True, "changed": True}
    for stream in (anna_stream, boris_stream):
        assert (await stream.until("deleted")).data == {"ids": [message_id]}
    again = await maria.moderate("delete", message_id)
    assert (await again.json()) == {"ok": True, "changed": False}

    [event] = await EventRecord.filter(name="core_webinar_chat_message_deleted")
    assert event.payload == {
        "timestamp": int(clock.now()),
        "webinar_id": str(webinar.id),
        "message_id": message_id,
        "lead_id": anna.lead.id,
        "actor": f"user:{maria.user.id}",
        "actor_user_id": maria.user.id,
    }
    stored = await ChatMessage.get(id=message_id)
    assert (stored.deleted_by_id, stored.deleted_at) == (maria.user.id, clock.now())
    missing = await maria.moderate("delete", message_id + 1000)
    assert missing.status == 404

    # A speaker whose right was withdrawn moderates no more (checked on every action).
    await set_capability(
        hub, clock, maria.user.telegram_id, Capability.WEBINAR_MANAGE_CHAT, False, actor=None
    )
    other_id = (await (await anna.say("ещё")).json())["id"]
    assert (await maria.moderate("delete", other_id)).status == 403
    anna_stream.close()
    boris_stream.close()


async def test_a_muted_viewer_is_told_and_cannot_post(room, people, clock, hub) -> None:
    webinar = await live_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar, "Анна")
    boris = await viewer(room, people, clock, hub, webinar, "Борис")
    maria = await speaker(room, people, clock, webinar)
    anna_stream, boris_stream = await anna.stream(), await boris.stream()
    assert (await anna_stream.until("me")).data == {"speaker": False, "muted": False}
    await boris_stream.until("me")
    message_id = (await (await anna.say("спам")).json())["id"]
    speaker_message = (await (await maria.say("Добро пожаловать!")).json())["id"]

    assert (await (await maria.moderate("mute", message_id)).json())["changed"] is True
    assert (await anna_stream.until("me")).data == {"muted": True}
    assert [e for e in await boris_stream.quiet() if e.kind == "me"] == []  # only Anna is told
    refused = await anna.say("а так?")
    assert refused.status == 403
    assert "запретил вам писать" in (await refused.json())["notice"]
    assert (await boris.say("а я могу")).status == 200
    assert (await maria.moderate("mute", speaker_message)).status == 400
    assert await ChatMute.filter(webinar_id=webinar.id, lead_id=anna.lead.id).exists()
    assert await EventRecord.filter(name="core_webinar_chat_muted").count() == 1

    # A reload still knows; unmuting lets her post again.
    anna_again = await anna.get(anna.data["urls"]["room"])
    assert '"muted": true' in await anna_again.text()
    assert (await (await maria.moderate("unmute", message_id)).json())["changed"] is True
    assert (await anna_stream.until("me")).data == {"muted": False}
    assert (await anna.say("спасибо")).status == 200
    anna_stream.close()
    boris_stream.close()


async def test_a_closed_chat_refuses_viewers_posts_until_it_is_opened(
    room, people, clock, hub
) -> None:
    webinar = await live_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar, "Анна")
    maria = await speaker(room, people, clock, webinar)
    stream = await anna.stream()
    await stream.until("me")

    assert (await (await maria.moderate("close")).json())["changed"] is True
    assert (await stream.until("state")).data["chat_open"] is False
    refused = await anna.say("можно вопрос?")
    assert refused.status == 403
    assert (await refused.json())["notice"] == "Спикер пока закрыл чат."
    assert (await maria.say("Вопросы — после эфира")).status == 200  # speakers still can
    assert (await (await maria.moderate("close")).json())["changed"] is False

    assert (await (await maria.moderate("open")).json())["changed"] is True
    assert (await stream.until("state")).data["chat_open"] is True
    assert (await anna.say("можно вопрос?")).status == 200
    names = [e.name for e in await EventRecord.filter(name__startswith="core_webinar_chat_")]
    assert names == ["core_webinar_chat_closed", "core_webinar_chat_opened"]
    stream.close()


async def test_the_chat_is_only_open_while_live(room, people, clock, hub) -> None:
    webinar = await make_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar, "Анна")
    early = await anna.say("уже можно?")
    assert early.status == 409
    assert (await early.json())["notice"] == "Чат открыт только во время эфира."
    assert await ChatMessage.all().count() == 0


async def test_the_viewer_count_counts_people_not_tabs_or_speakers(
    room, people, clock, hub
) -> None:
    webinar = await live_webinar(hub, clock)
    anna = await viewer(room, people, clock, hub, webinar, "Анна")
    boris = await viewer(room, people, clock, hub, webinar, "Борис")
    maria = await speaker(room, people, clock, webinar)
    streams = [await anna.stream(), await anna.stream(), await boris.stream(), await maria.stream()]
    for stream in streams:
        await stream.until("me")
    assert (room.live.viewers(webinar.id), room.live.connections(webinar.id)) == (2, 4)
    for stream in streams:
        stream.close()
