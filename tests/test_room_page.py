"""The room renders what Core says, for every status and stream type: the waiting screen,
the player and the chat (obs), the platform's button (zoom, telegram), the closing screen
with or without the recording, the cancellation."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from core.clock import FakeClock
from core.hub import SignalHub
from core.room import Player, player_for
from core.webinars import set_status
from models import WebinarStatus
from tests.room_support import Visitor, make_lead, make_webinar, register

VENDOR = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor"


async def open_room(room, clock: FakeClock, hub: SignalHub, status: WebinarStatus, **webinar):
    """A visitor in the room of a webinar with `status`: (visitor, page html, response)."""
    created = await make_webinar(hub, clock, **webinar)
    lead = await make_lead(clock)
    await register(hub, clock, created, lead)
    path = [WebinarStatus.LIVE, WebinarStatus.FINISHED] if status is WebinarStatus.FINISHED else []
    path = [WebinarStatus.LIVE] if status is WebinarStatus.LIVE else path
    path = [WebinarStatus.CANCELLED] if status is WebinarStatus.CANCELLED else path
    for step in path:
        await set_status(hub, clock, created.id, step, actor=None)
    visitor = Visitor(room.base)
    response = await visitor.enter(room.links.room_link(created, lead.id))
    return visitor, await response.text(), response


def shown_stages(page: str) -> list[str]:
    sections = re.findall(r'<section class="stage" id="stage-([a-z]+)"( hidden)?>', page)
    return [name for name, hidden in sections if not hidden]


def chat_shown(page: str) -> bool:
    match = re.search(r'<aside class="chat" id="chat"[^>]*>', page)
    assert match
    return "hidden" not in match[0]


async def test_before_the_start_a_waiting_screen_with_the_start_and_no_stream(
    room, clock: FakeClock, hub: SignalHub
) -> None:
    visitor, page, response = await open_room(room, clock, hub, WebinarStatus.SCHEDULED)
    try:
        assert shown_stages(page) == ["scheduled"]
        assert '<time id="start-time" datetime="2027-01-20T19:00:00+03:00">' in page
        assert "20.01.2027 19:00 (Europe/Moscow)" in page  # until the script shows local time
        assert not chat_shown(page)
        state = visitor.data["state"]
        assert (state["stage"], state["player"], state["join_url"]) == ("scheduled", None, None)
        assert "stream.m3u8" not in page  # the stream is not given out before the start
        assert visitor.data["now"] == clock.now()  # the countdown counts on the server's clock
        assert response.headers["Cache-Control"] == "no-store"
    finally:
        await visitor.close()


async def test_live_obs_shows_the_player_and_the_chat(room, clock, hub) -> None:
    visitor, page, response = await open_room(room, clock, hub, WebinarStatus.LIVE)
    try:
        assert shown_stages(page) == ["player"]
        assert chat_shown(page)
        assert visitor.data["state"]["player"] == {
            "kind": "hls",
            "src": "https://cdn.example.com/live/stream.m3u8",
        }
        assert visitor.data["hls"].startswith("/static/vendor/hls.light.min.js")
        policy = response.headers["Content-Security-Policy"]
        assert "connect-src 'self' https://cdn.example.com" in policy
        assert "media-src 'self' blob: https://cdn.example.com" in policy
        assert "frame-src" not in policy
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
    finally:
        await visitor.close()


async def test_live_obs_with_an_embed_page_frames_only_that_platform(room, clock, hub) -> None:
    visitor, _, response = await open_room(
        room,
        clock,
        hub,
        WebinarStatus.LIVE,
        stream_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=10",
        chat="off",
    )
    try:
        state = visitor.data["state"]
        assert state["player"] == {
            "kind": "iframe",
            "src": "https://www.youtube.com/embed/dQw4w9WgXcQ",
        }
        assert state["chat"] is False
        assert "frame-src https://www.youtube.com" in response.headers["Content-Security-Policy"]
    finally:
        await visitor.close()


@pytest.mark.parametrize(
    ("stream_type", "url", "label"),
    [
        ("zoom", "https://us02web.zoom.us/j/8123456789?pwd=abc", "Открыть Zoom"),
        ("telegram", "https://t.me/+AbCdEfGh", "Открыть трансляцию в Telegram"),
    ],
)
async def test_live_zoom_or_telegram_offers_the_platform_in_a_new_tab_and_no_chat(
    room, clock, hub, stream_type: str, url: str, label: str
) -> None:
    visitor, page, _ = await open_room(
        room, clock, hub, WebinarStatus.LIVE, stream_type=stream_type, stream_url=url
    )
    try:
        assert shown_stages(page) == ["external"]
        href = url.replace("&", "&amp;")
        assert (
            f'<a class="button join" id="join" href="{href}" target="_blank" rel="noopener">'
            f"{label}</a>"
        ) in page
        assert not chat_shown(page)
        assert visitor.data["state"]["chat"] is False
        assert (await visitor.say("привет")).status == 409  # there is no internal chat
    finally:
        await visitor.close()


@pytest.mark.parametrize("recording", ["https://cdn.example.com/rec/webinar.mp4", ""])
async def test_after_the_webinar_the_closing_screen_with_the_recording_if_any(
    room, clock, hub, recording: str
) -> None:
    visitor, page, _ = await open_room(
        room, clock, hub, WebinarStatus.FINISHED, recording_url=recording
    )
    try:
        assert shown_stages(page) == ["finished"]
        assert "Спасибо, что были с нами!" in page
        assert not chat_shown(page)
        link = re.search(r'<a class="button secondary" id="recording-link"[^>]*>', page)
        assert link
        if recording:
            assert visitor.data["state"]["recording"] == {"kind": "video", "src": recording}
            assert f'href="{recording}"' in link[0]
            assert "hidden" not in link[0]
        else:
            assert visitor.data["state"]["recording"] is None
            assert "hidden" in link[0]
    finally:
        await visitor.close()


async def test_a_cancelled_webinar_says_so(room, clock, hub) -> None:
    visitor, page, _ = await open_room(room, clock, hub, WebinarStatus.CANCELLED)
    try:
        assert shown_stages(page) == ["cancelled"]
        assert "Вебинар отменён" in page
    finally:
        await visitor.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://cdn.example.com/live/index.m3u8?token=1", Player("hls", "https://cdn.example.com/live/index.m3u8?token=1")),
        ("https://cdn.example.com/rec.MP4", Player("video", "https://cdn.example.com/rec.MP4")),
        ("https://youtu.be/dQw4w9WgXcQ", Player("iframe", "https://www.youtube.com/embed/dQw4w9WgXcQ")),
        ("https://www.youtube.com/live/dQw4w9WgXcQ", Player("iframe", "https://www.youtube.com/embed/dQw4w9WgXcQ")),
        ("https://www.youtube.com/embed/dQw4w9WgXcQ", Player("iframe", "https://www.youtube.com/embed/dQw4w9WgXcQ")),
        (
            "https://rutube.ru/video/0123456789abcdef0123456789abcdef/",
            Player("iframe", "https://rutube.ru/play/embed/0123456789abcdef0123456789abcdef"),
        ),
        ("https://vk.com/video_ext.php?oid=-1&id=2&hash=x", Player("iframe", "https://vk.com/video_ext.php?oid=-1&id=2&hash=x")),
        ("https://player.example.org/live/7", Player("iframe", "https://player.example.org/live/7")),
    ],
)  # fmt: skip
def test_the_player_is_chosen_by_the_address(url: str, expected: Player) -> None:
    assert player_for(url) == expected


def test_the_vendored_player_library_is_the_published_one() -> None:
    readme = (VENDOR / "README.md").read_text()
    digest = hashlib.sha256((VENDOR / "hls.light.min.js").read_bytes()).hexdigest()
    assert f"`{digest}`" in readme
    assert "Apache License" in (VENDOR / "hls.js.LICENSE").read_text()


async def test_the_player_library_is_served_by_the_app(room) -> None:
    visitor = Visitor(room.base)
    try:
        served = await visitor.get("/static/vendor/hls.light.min.js")
        assert served.status == 200
        assert served.headers["Content-Type"].endswith("javascript")
        assert await served.read() == (VENDOR / "hls.light.min.js").read_bytes()
    finally:
        await visitor.close()
