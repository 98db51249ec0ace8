"""The chat of AUTO sessions, through HTTP and the rooms' live connections: viewers post
and speakers moderate as in a live webinar, and the original live run's chat replays
at its offsets from the session's start — marked as such, not attributed to anyone
here, deleted messages left out, each once — and a room entering later gets it too."""

from __future__ import annotations

from core.auto_series_admin import set_replay_source
from core.auto_webinars import AutoDraft, create_auto_series
from core.chat import ChatReplay, delete_message, lead_author, speaker_author
from core.clock import FakeClock
from core.hub import SignalHub
from core.webinars import set_status
from models import ChatMessage, Role, Webinar, WebinarStatus
from scheduler.auto import AutoSessions
from tests.room_support import make_lead, make_user, make_webinar
from tests.test_room_chat import speaker, viewer
from web import keys


async def original_run(room, clock: FakeClock, hub: SignalHub) -> tuple[Webinar, int]:
    """A live webinar with a chat: Анна at +60 s, the speaker at +120 s, a message a
    speaker deleted at +200 s, Анна again at +300 s. Returns it and its real start."""
    webinar = await make_webinar(hub, clock, title="Оригинал")
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    webinar = await Webinar.get(id=webinar.id)
    start = webinar.started_at
    assert start is not None
    poster = room.app[keys.CHAT]
    anna = lead_author(await make_lead(clock, "Анна Петрова"))
    host = await make_user(clock, 777, Role.SPEAKER, first_name="Мария")
    for offset, author, text in (
        (60, anna, "Первое <b>сообщение</b>"),
        (120, speaker_author(host), "Ответ спикера"),
        (200, anna, "Удалённое"),
        (300, anna, "Позднее"),
    ):
        clock.advance(start + offset - clock.now())
        message = await poster.post(webinar, author, text)
    deleted = await ChatMessage.get(webinar_id=webinar.id, text="Удалённое")
    await delete_message(hub, clock, webinar.id, deleted.id, actor=host)
    await set_status(hub, clock, webinar.id, WebinarStatus.FINISHED, actor=None)
    assert message.text == "Позднее"
    return webinar, int(start)


async def test_auto_session_chat_works_and_the_original_chat_replays_at_its_offsets(
    room, people, clock: FakeClock, hub: SignalHub
) -> None:
    source, _ = await original_run(room, clock, hub)
    draft = AutoDraft(
        title="Авто",
        schedule="daily 19:00",
        tz="Europe/Moscow",
        recording_url="https://cdn.example.com/rec/webinar.m3u8",
        recording_duration="60",
    )
    series = await create_auto_series(hub, clock, draft, actor=None, default_tz="Europe/Moscow")
    await set_replay_source(clock, series.id, str(source.id), actor=None)
    auto = AutoSessions(hub, clock, plan_every=0)
    await auto.tick()
    session = await Webinar.filter(series_id=series.id).order_by("starts_at").first()
    assert session is not None
    vera = await viewer(room, people, clock, hub, session, "Вера")
    clock.advance(session.starts_at - clock.now())
    await auto.tick()  # live at its start, with no speaker
    session = await Webinar.get(id=session.id)
    assert session.status == WebinarStatus.LIVE

    # The room's script marks a replayed message with this (in the viewer's language).
    assert vera.data["texts"]["replay"] == "из исходной трансляции"
    stream = await vera.stream()
    state = await stream.until("state")
    assert state.data["chat"] is True  # the internal chat of the embedded player
    replay = ChatReplay(clock, room.live)

    # At +90 s, only the first message is due: it arrives marked, dated on this timeline.
    clock.advance(90)
    await replay.tick()
    first = await stream.until("message")
    assert first.data["text"] == "Первое <b>сообщение</b>"
    assert first.data["author"] == "Анна"
    assert first.data["replay"] is True
    assert first.data["at"] == session.starts_at + 60
    assert first.id is not None

    # Vera writes in the session's chat as in a live one.
    answer = await vera.say("Привет из автовебинара")
    assert answer.status == 200
    mine = await stream.until("message")
    assert mine.data["text"] == "Привет из автовебинара"
    assert "replay" not in mine.data

    # A speaker moderates it as in a live one: deletes, closes the chat.
    maria = await speaker(room, people, clock, session)
    assert (await maria.moderate("delete", mine.data["id"])).status == 200
    gone = await stream.until("deleted")
    assert gone.data["ids"] == [mine.data["id"]]
    assert (await maria.moderate("close")).status == 200
    assert (await vera.say("ещё")).status == 403

    # The rest is due at +400 s: the speaker's answer and the late one, never the
    # deleted message; each once, however often the replay runs.
    clock.advance(310)
    await replay.tick()
    await replay.tick()
    texts = [(await stream.until("message")).data for _ in range(2)]
    assert [(m["text"], m["speaker"], m.get("replay")) for m in texts] == [
        ("Ответ спикера", True, True),
        ("Позднее", False, True),
    ]
    assert [e for e in await stream.quiet() if e.kind == "message"] == []
    copies = await ChatMessage.filter(webinar_id=session.id, replay_of_id__not_isnull=True)
    assert len(copies) == 3
    assert all(m.lead_id is None and m.user_id is None for m in copies)  # nobody here wrote

    # Someone entering now gets the replayed messages from the history, marked.
    late = await viewer(room, people, clock, hub, session, "Глеб")
    late_stream = await late.stream()
    await late_stream.until("me")
    history = [(await late_stream.until("message")).data for _ in range(3)]
    assert [m["text"] for m in history] == [
        "Первое <b>сообщение</b>",
        "Ответ спикера",
        "Позднее",
    ]
    assert all(m["replay"] for m in history)
