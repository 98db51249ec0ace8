"""An AUTO webinar's public page `/w/<series slug>`: its upcoming sessions (and the
just-in-time one) to choose from, escaped; the chosen session is the registration — the
same `client_webinar_registered` as a live webinar's page — and a pick that is not one of
the series' sessions, or has ended, is refused with words saying so."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.auto_webinars import AutoDraft, create_auto_series, plan_sessions
from core.clock import FakeClock
from core.hub import SignalHub
from core.webinars import set_status
from models import AutoSeries, EventRecord, LeadEntry, Webinar, WebinarRegistration, WebinarStatus
from tests.web_support import make_client, open_form, post_form

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 30, 10, 7, tzinfo=MSK).timestamp()
DAY = 86400


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def client(aiohttp_client: Any, settings: Any, clock: FakeClock, hub: SignalHub) -> Any:
    return await make_client(aiohttp_client, settings, clock, hub)


async def make_series(
    hub: SignalHub, clock: FakeClock, planned: float = 3 * DAY, **changes: str
) -> tuple[AutoSeries, list[Webinar]]:
    fields = {
        "title": "Авто <b>вебинар</b>",
        "description": "О <i>главном</i>.",
        "schedule": "daily 19:00",
        "tz": "Europe/Moscow",
        "recording_url": "https://cdn.example.com/rec/webinar.mp4",
        "recording_duration": "60",
        **changes,
    }
    series = await create_auto_series(
        hub, clock, AutoDraft(**fields), actor=None, default_tz="Europe/Moscow"
    )
    return series, await plan_sessions(hub, clock, series, planned)


async def registered_events() -> list[tuple[str, int]]:
    rows = await EventRecord.filter(name="client_webinar_registered").order_by("id")
    return [(str(r.payload["webinar_id"]), int(r.payload["lead_id"])) for r in rows]


async def test_the_page_offers_the_upcoming_sessions_escaped(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    series, sessions = await make_series(hub, clock, blackout="2026-12-01")
    assert len(sessions) == 2  # 30 Nov and 2 Dec: the 1st is blacked out
    response = await client.get(f"/w/{series.slug}")
    page = await response.text()
    assert response.status == 200
    assert "Авто &lt;b&gt;вебинар&lt;/b&gt;" in page
    assert "<b>вебинар</b>" not in page
    assert "О &lt;i&gt;главном&lt;/i&gt;." in page
    for session in sessions:
        assert f'name="session" type="radio" value="{session.id}"' in page
    # In UTC for the script (which shows the visitor's zone), in the series' zone before it.
    assert 'datetime="2026-11-30T16:00:00+00:00"' in page
    assert "2026-11-30 19:00 (Europe/Moscow)" in page
    assert f'id="s-{sessions[0].id}" name="session" type="radio" value="{sessions[0].id}"' in page
    assert 'value="jit"' not in page  # not enabled
    assert f'action="/w/{series.slug}?lang=' in page
    # Started or ended ones are not offered.
    await set_status(hub, clock, sessions[0].id, WebinarStatus.LIVE, actor=None)
    page = await (await client.get(f"/w/{series.slug}")).text()
    assert f'value="{sessions[0].id}"' not in page
    assert f'value="{sessions[1].id}"' in page


async def test_the_just_in_time_session_is_offered_first_and_chosen(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    series, sessions = await make_series(hub, clock, just_in_time="on")
    url = f"/w/{series.slug}"
    token = await open_form(client, url)
    page = await (await client.get(url)).text()
    assert 'value="jit" required checked' in page
    assert "8 min" in page or "8 мин" in page  # 10:07 → 10:15
    assert 'datetime="2026-11-30T07:15:00+00:00"' in page
    response = await post_form(client, token, url=url, session="jit", tz="Asia/Omsk")
    assert response.status == 303, await response.text()
    jit = await Webinar.get(series_id=series.id, starts_at=NOW + 8 * 60)
    lead = await LeadEntry.get()
    assert await registered_events() == [(str(jit.id), lead.id)]
    # Another visitor a minute later gets the same session, not a new one.
    clock.advance(60)
    again = await post_form(
        client, await open_form(client, url), url=url, session="jit", phone="+7 916 000 00 01"
    )
    assert again.status == 303
    assert await Webinar.filter(series_id=series.id).count() == len(sessions) + 1
    assert await WebinarRegistration.filter(webinar_id=jit.id).count() == 2


async def test_a_chosen_session_is_the_registration(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    series, sessions = await make_series(hub, clock)
    url = f"/w/{series.slug}"
    chosen = sessions[1]
    response = await post_form(
        client, await open_form(client, url), url=url, session=str(chosen.id)
    )
    assert response.status == 303
    thanks = await (await client.get(response.headers["Location"])).text()
    assert "Авто &lt;b&gt;вебинар&lt;/b&gt;" in thanks
    lead = await LeadEntry.get()
    assert await registered_events() == [(str(chosen.id), lead.id)]
    rows = await WebinarRegistration.all().values_list("webinar_id", "lead_id")
    assert [(int(w), int(x)) for w, x in rows] == [(chosen.id, lead.id)]


@pytest.mark.parametrize(
    "case", ["other_series", "live_webinar", "finished", "cancelled", "junk", "none"]
)
async def test_a_pick_outside_the_series_or_ended_is_refused_with_words(
    client: Any, hub: SignalHub, clock: FakeClock, case: str
) -> None:
    series, sessions = await make_series(hub, clock)
    _, others = await make_series(hub, clock, title="Другой")
    pick = {
        "other_series": str(others[0].id),
        "live_webinar": "999999",
        "finished": str(sessions[0].id),
        "cancelled": str(sessions[1].id),
        "junk": "<script>1</script>",
        "none": "",
    }[case]
    await set_status(hub, clock, sessions[0].id, WebinarStatus.LIVE, actor=None)
    await set_status(hub, clock, sessions[0].id, WebinarStatus.FINISHED, actor=None)
    await set_status(hub, clock, sessions[1].id, WebinarStatus.CANCELLED, actor=None)
    url = f"/w/{series.slug}?lang=en"
    response = await post_form(
        client, await open_form(client, url), url=url, session=pick, name="Ivan <Petrov>"
    )
    assert response.status == 422
    page = await response.text()
    expected = {
        "other_series": "This session is not one of this webinar's.",
        "live_webinar": "This session is not one of this webinar's.",
        "junk": "This session is not one of this webinar's.",
        "finished": "This session has already ended.",
        "cancelled": "This session was cancelled.",
        "none": "Please choose a session.",
    }[case]
    assert expected in page
    assert 'value="Ivan &lt;Petrov&gt;"' in page  # what they typed, kept and escaped
    assert "<script>1</script>" not in page
    assert await LeadEntry.all().count() == 0
    assert await registered_events() == []


async def test_a_live_session_still_takes_its_latecomers(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    series, sessions = await make_series(hub, clock)
    url = f"/w/{series.slug}"
    token = await open_form(client, url)
    await set_status(hub, clock, sessions[0].id, WebinarStatus.LIVE, actor=None)
    response = await post_form(client, token, url=url, session=str(sessions[0].id))
    assert response.status == 303
    assert [w for w, _ in await registered_events()] == [str(sessions[0].id)]


async def test_a_paused_series_offers_nothing_and_takes_nothing(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    series, sessions = await make_series(hub, clock, just_in_time="on")
    url = f"/w/{series.slug}?lang=en"
    token = await open_form(client, url)
    series.paused = True
    await series.save()
    page = await (await client.get(url)).text()
    assert 'name="session"' not in page
    assert 'name="phone"' not in page
    assert "There is no session to register for at the moment." in page
    response = await post_form(client, token, url=url, session=str(sessions[0].id))
    assert response.status == 422
    assert "Registration for this webinar is paused." in await response.text()
    assert await registered_events() == []


async def test_a_deleted_series_page_is_gone(client: Any, hub: SignalHub, clock: FakeClock) -> None:
    from core.auto_series_admin import delete_series

    series, _ = await make_series(hub, clock)
    url = f"/w/{series.slug}?lang=en"
    token = await open_form(client, url)
    await delete_series(hub, clock, series.id, actor=None)
    assert (await client.get(url)).status == 404
    response = await post_form(client, token, url=url, session="1")
    assert response.status == 404
    assert await registered_events() == []


async def test_a_form_shown_again_renders_the_times_in_the_visitors_zone(
    client: Any, hub: SignalHub, clock: FakeClock
) -> None:
    series, _ = await make_series(hub, clock)
    url = f"/w/{series.slug}"
    response = await post_form(
        client, await open_form(client, url), url=url, phone="12", tz="Asia/Omsk"
    )
    assert response.status == 422
    page = await response.text()
    assert "2026-11-30 22:00 (Asia/Omsk)" in page  # 19:00 in Moscow
    bogus = await post_form(
        client, await open_form(client, url), url=url, phone="12", tz="Mars/Base"
    )
    assert "2026-11-30 19:00 (Europe/Moscow)" in await bogus.text()
