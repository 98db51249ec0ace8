"""The webinar entity's rules: validation, status transitions (legal, illegal, concurrent),
capabilities, and one registration per lead and webinar."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.clock import FakeClock
from core.hub import SignalHub
from core.users import NotAllowed
from core.webinar_rules import WebinarDraft, WebinarInvalid
from core.webinars import (
    Outcome,
    Registration,
    create_webinar,
    edit_webinar,
    register_many,
    set_status,
)
from models import (
    EventRecord,
    LeadEntry,
    Role,
    User,
    Webinar,
    WebinarRegistration,
    WebinarStatus,
)
from models import WebinarStatus as S

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def draft(**changes: str) -> WebinarDraft:
    fields = {
        "title": "Как стать партнёром",
        "start": "2026-12-01T19:00",
        "tz": "Europe/Moscow",
        "duration": "90",
        "stream_type": "obs",
        "stream_url": "https://cdn.example.com/live/stream.m3u8",
    }
    fields.update(changes)
    return WebinarDraft(**{k: v for k, v in fields.items() if v is not None})


async def create(hub: SignalHub, clock: FakeClock, **changes: str) -> Webinar:
    return await create_webinar(
        hub, clock, draft(**changes), actor=None, default_tz="Europe/Moscow"
    )


async def user(clock: FakeClock, telegram_id: int, role: Role) -> User:
    now = clock.now()
    return await User.create(telegram_id=telegram_id, role=role, created_at=now, updated_at=now)


async def events(name: str) -> list[dict[str, object]]:
    return [e.payload for e in await EventRecord.filter(name=name).order_by("id")]


async def test_a_webinar_is_created_with_its_event(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await create(hub, clock, speaker="777", description="Line one\nline two")
    stored = await Webinar.get(id=webinar.id)
    assert stored.slug == "kak-stat-partnerom-2026-12-01"
    local = datetime(2026, 12, 1, 19, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert stored.starts_at == local.timestamp()
    assert (stored.status, stored.duration_min, stored.chat_enabled) == (S.SCHEDULED, 90, True)
    assert stored.description == "Line one\nline two"
    host = await User.get(telegram_id=777)
    assert stored.speaker_id == host.id
    assert await events("core_webinar_created") == [
        {
            "timestamp": int(NOW),
            "webinar_id": str(webinar.id),
            "slug": stored.slug,
            "title": "Как стать партнёром",
            "starts_at": int(local.timestamp()),
            "stream_type": "obs",
            "actor": "system",
            "actor_user_id": None,
        }
    ]
    # A second webinar with the same title on the same day gets its own address.
    again = await create(hub, clock)
    assert again.slug == "kak-stat-partnerom-2026-12-01-2"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"start": "2026-11-30T14:59"}, "start", "in the future"),  # 11:59 UTC: past
        ({"start": "tomorrow"}, "start", "not a date"),
        ({"tz": "Mars/Olympus"}, "tz", "time zone"),
        ({"duration": "0"}, "duration", "from 1 to 1440"),
        ({"duration": "ninety"}, "duration", "whole number"),
        ({"stream_type": "rtmp"}, "stream_type", "unknown stream type"),
        ({"stream_url": "javascript:alert(1)"}, "stream_url", "not a web address"),
        ({"stream_url": "https://exa mple.com/x"}, "stream_url", "not a web address"),
        ({"recording_url": "ftp://example.com/rec"}, "recording_url", "not a web address"),
        ({"title": "   "}, "title", "title is needed"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"stream_type": "zoom", "stream_url": "https://evil.example/j/1"}, "stream_url", "zoom"),
        ({"stream_type": "telegram", "stream_url": "https://x.com/a"}, "stream_url", "t.me"),
        ({"slug": "-bad-"}, "slug", "slug is"),
        ({"attend_percent": "0"}, "attend_percent", "from 1 to 100"),
    ],
)
async def test_invalid_input_is_refused_naming_the_field(
    database_url: str,
    clock: FakeClock,
    hub: SignalHub,
    changes: dict[str, str],
    field: str,
    words: str,
) -> None:
    with pytest.raises(WebinarInvalid) as refused:
        await create(hub, clock, **changes)
    assert refused.value.field == field
    assert words in refused.value.text()
    assert await Webinar.all().count() == 0
    assert await events("core_webinar_created") == []


@pytest.mark.parametrize(
    ("stream_type", "url"),
    [("zoom", "https://us02web.zoom.us/j/1"), ("telegram", "https://t.me/c")],
)
async def test_two_chats_for_one_webinar_are_refused(
    database_url: str, clock: FakeClock, hub: SignalHub, stream_type: str, url: str
) -> None:
    with pytest.raises(WebinarInvalid) as refused:
        await create(hub, clock, stream_type=stream_type, stream_url=url, chat="on")
    assert refused.value.field == "chat"
    assert "two chats for one webinar are forbidden" in refused.value.text()
    # Without asking for the internal chat, the platform's is the chat.
    webinar = await create(hub, clock, stream_type=stream_type, stream_url=url)
    assert webinar.chat_enabled is False
    # Turning an obs webinar into a zoom one drops our chat; asking for it back is refused.
    obs = await create(hub, clock, slug="obs-one")
    changed, fields = await edit_webinar(
        hub, clock, obs.id, WebinarDraft(stream_type=stream_type, stream_url=url), actor=None
    )
    assert changed.chat_enabled is False
    assert "chat_enabled" in fields
    with pytest.raises(WebinarInvalid):
        await edit_webinar(hub, clock, obs.id, WebinarDraft(chat="on"), actor=None)


async def test_every_legal_transition_once_and_every_illegal_one_refused(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    legal = [(S.SCHEDULED, S.LIVE), (S.LIVE, S.FINISHED), (S.SCHEDULED, S.CANCELLED)]
    illegal = [
        (S.SCHEDULED, S.FINISHED, "not started yet"),
        (S.LIVE, S.CANCELLED, "stop it instead"),
        (S.LIVE, S.SCHEDULED, "cannot go back"),
        (S.FINISHED, S.LIVE, "finished already"),
        (S.FINISHED, S.CANCELLED, "finished already"),
        (S.CANCELLED, S.LIVE, "cancelled already"),
        (S.CANCELLED, S.SCHEDULED, "cancelled already"),
    ]

    async def webinar_in(status: WebinarStatus) -> Webinar:
        webinar = await create(hub, clock, slug=f"w{await Webinar.all().count()}")
        path = {
            S.SCHEDULED: [],
            S.LIVE: [S.LIVE],
            S.FINISHED: [S.LIVE, S.FINISHED],
            S.CANCELLED: [S.CANCELLED],
        }
        for step in path[status]:
            assert (await set_status(hub, clock, webinar.id, step, actor=None)).outcome is (
                Outcome.APPLIED
            )
        return webinar

    for before, after in legal:
        webinar = await webinar_in(before)
        clock.advance(60)
        change = await set_status(hub, clock, webinar.id, after, actor=None)
        assert change.outcome is Outcome.APPLIED
        assert (await Webinar.get(id=webinar.id)).status == after
    for before, after, words in illegal:
        webinar = await webinar_in(before)
        count = await EventRecord.filter(name="core_webinar_set_status").count()
        change = await set_status(hub, clock, webinar.id, after, actor=None)
        assert change.outcome is Outcome.ILLEGAL, (before, after)
        assert words in change.reason.format(status=before.value)
        assert (await Webinar.get(id=webinar.id)).status == before
        assert await EventRecord.filter(name="core_webinar_set_status").count() == count


async def test_live_and_stop_record_when_it_really_ran(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await create(hub, clock)
    await set_status(hub, clock, webinar.id, S.LIVE, actor=None)
    started = clock.now()
    clock.advance(3600)
    await set_status(hub, clock, webinar.id, S.FINISHED, actor=None)
    stored = await Webinar.get(id=webinar.id)
    assert (stored.started_at, stored.ended_at) == (started, started + 3600)
    assert [
        (e["previous_status"], e["status"]) for e in await events("core_webinar_set_status")
    ] == [
        ("scheduled", "live"),
        ("live", "finished"),
    ]


async def test_two_speakers_pressing_start_at_once_make_one_transition(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    anna = await user(clock, 1, Role.SPEAKER)
    boris = await user(clock, 2, Role.SPEAKER)
    webinar = await create(hub, clock)
    first, second = await asyncio.gather(
        set_status(hub, clock, webinar.id, S.LIVE, actor=anna),
        set_status(hub, clock, webinar.id, S.LIVE, actor=boris),
    )
    outcomes = sorted([first.outcome, second.outcome])
    assert outcomes == [Outcome.ALREADY, Outcome.APPLIED]
    winner, loser = (first, second) if first.outcome is Outcome.APPLIED else (second, first)
    winner_user = anna if winner is first else boris
    assert loser.by is not None  # told who did it
    assert loser.by.id == winner_user.id
    logged = await events("core_webinar_set_status")
    assert len(logged) == 1
    assert logged[0]["actor"] == f"user:{winner_user.id}"
    # A late double press is the same answer, not a second event.
    again = await set_status(hub, clock, webinar.id, S.LIVE, actor=anna)
    assert again.outcome is Outcome.ALREADY
    assert len(await events("core_webinar_set_status")) == 1


async def test_only_capability_holders_may_create_and_control(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    partner = await user(clock, 3, Role.PARTNER)
    speaker = await user(clock, 4, Role.SPEAKER)
    with pytest.raises(NotAllowed):
        await create_webinar(hub, clock, draft(), actor=partner, default_tz="Europe/Moscow")
    webinar = await create_webinar(hub, clock, draft(), actor=speaker, default_tz="UTC")
    with pytest.raises(NotAllowed):
        await set_status(hub, clock, webinar.id, S.LIVE, actor=partner)
    with pytest.raises(NotAllowed):
        await edit_webinar(hub, clock, webinar.id, WebinarDraft(title="Mine"), actor=partner)
    assert (await Webinar.get(id=webinar.id)).status == S.SCHEDULED
    assert (await set_status(hub, clock, webinar.id, S.LIVE, actor=speaker)).outcome is (
        Outcome.APPLIED
    )


async def test_rescheduling_is_an_event_with_the_previous_start(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await create(hub, clock)
    moved, changed = await edit_webinar(
        hub, clock, webinar.id, WebinarDraft(start="2026-12-02 20:30"), actor=None
    )
    assert changed == ["starts_at"]
    assert moved.starts_at == webinar.starts_at + 86400 + 5400
    (updated,) = await events("core_webinar_updated")
    assert updated["previous_starts_at"] == int(webinar.starts_at)
    assert updated["starts_at"] == int(moved.starts_at)
    # The same value again changes nothing and says nothing.
    _, none = await edit_webinar(
        hub, clock, webinar.id, WebinarDraft(start="2026-12-02 20:30"), actor=None
    )
    assert none == []
    assert len(await events("core_webinar_updated")) == 1
    # A live webinar keeps its start; a finished one may still get its recording.
    await set_status(hub, clock, webinar.id, S.LIVE, actor=None)
    with pytest.raises(WebinarInvalid):
        await edit_webinar(
            hub, clock, webinar.id, WebinarDraft(start="2026-12-03 20:30"), actor=None
        )
    # Its attendance rule is applied at the stop: still adjustable while live, not after.
    ruled, _ = await edit_webinar(
        hub, clock, webinar.id, WebinarDraft(attend_percent="30"), actor=None
    )
    assert ruled.attend_min_percent == 30
    await set_status(hub, clock, webinar.id, S.FINISHED, actor=None)
    with pytest.raises(WebinarInvalid):
        await edit_webinar(hub, clock, webinar.id, WebinarDraft(attend_minutes="5"), actor=None)
    done, _ = await edit_webinar(
        hub, clock, webinar.id, WebinarDraft(recording_url="https://example.com/r"), actor=None
    )
    assert done.recording_url == "https://example.com/r"


async def test_a_lead_is_registered_once_however_often_it_submits(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await create(hub, clock)
    now = clock.now()
    lead = await LeadEntry.create(
        name="A", lead_source="web_form", first_touch_at=now, lead_created_at=now, updated_at=now
    )
    one = Registration(webinar.id, lead.id, "web_form")
    async with hub.transaction() as tx:
        assert await register_many(tx, clock, [one, one]) == [True, False]
    async with hub.transaction() as tx:
        assert await register_many(tx, clock, [one]) == [False]
    assert await WebinarRegistration.filter(webinar_id=webinar.id).count() == 1
    assert await events("client_webinar_registered") == [
        {
            "timestamp": int(now),
            "webinar_id": str(webinar.id),
            "lead_id": lead.id,
            "source": "web_form",
        }
    ]
    # A cancelled webinar takes no registrations.
    await set_status(hub, clock, webinar.id, S.CANCELLED, actor=None)
    other = await LeadEntry.create(
        name="B", lead_source="web_form", first_touch_at=now, lead_created_at=now, updated_at=now
    )
    async with hub.transaction() as tx:
        assert await register_many(tx, clock, [Registration(webinar.id, other.id, "x")]) == [False]
