"""An AUTO session in a real Chromium: the series' page shows its sessions in the
visitor's own time zone, and a viewer entering twelve minutes after the start has the
player at minute 12 (by the server's clock), and seeking ahead of the live moment is put
back. The recording is a small file made here (PCM audio in a WAV container: Chromium
plays it in a <video>, seeks it by byte ranges, and Python writes it in a few lines)."""

from __future__ import annotations

import re
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect

from core.auto_webinars import AutoDraft, create_auto_series, jit_session, plan_sessions
from core.clock import FakeClock
from scheduler.auto import AutoSessions
from tests.room_support import make_lead, register

pytestmark = pytest.mark.browser

TZ = "Asia/Yekaterinburg"  # the viewer's zone: Moscow + 2 h
RECORDING = "https://cdn.example.com/rec/session.webm"
RATE = 4000  # samples a second: 20 minutes of silence in under 5 MB
MINUTES = 20


def wav(seconds: int) -> bytes:
    """Silence: 8-bit mono PCM in a RIFF/WAVE container."""
    samples = RATE * seconds
    header = b"RIFF" + struct.pack("<I", 36 + samples) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE, 1, 8)
    header += b"data" + struct.pack("<I", samples)
    return header + b"\x80" * samples


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    body = wav(MINUTES * 60)
    problems: list[str] = []

    async def serve(route: Any) -> None:
        """The recording's host, with byte ranges (what lets the browser seek)."""
        match = re.match(r"bytes=(\d+)-(\d*)", route.request.headers.get("range", ""))
        if not match:
            await route.fulfill(status=200, body=body, headers={"Content-Type": "audio/wav"})
            return
        first = int(match[1])
        last = int(match[2]) if match[2] else len(body) - 1
        await route.fulfill(
            status=206,
            body=body[first : last + 1],
            headers={
                "Content-Type": "audio/wav",
                "Accept-Ranges": "bytes",
                "Content-Range": f"bytes {first}-{last}/{len(body)}",
            },
        )

    context = await browser.new_context(locale="ru-RU", timezone_id=TZ)
    await context.route(RECORDING, serve)
    await context.route(
        "https://www.youtube.com/**",
        lambda route: route.fulfill(content_type="text/html", body="<p>player</p>"),
    )
    tab = await context.new_page()
    tab.on("pageerror", lambda error: problems.append(str(error)))
    yield tab
    await context.close()
    assert problems == []


async def test_a_late_joiner_starts_at_the_live_moment_and_cannot_run_ahead(
    service: Any, service_url: str, page: Any, clock: FakeClock
) -> None:
    series = await create_auto_series(
        service.hub,
        clock,
        AutoDraft(
            title="Автовебинар <b>1</b>",
            schedule="daily 19:00",
            tz="Europe/Moscow",
            recording_url=RECORDING,
            recording_duration=str(MINUTES),
            just_in_time="on",
        ),
        actor=None,
        default_tz="Europe/Moscow",
    )
    [session, *_] = await plan_sessions(service.hub, clock, series, 2 * 86400)

    # The series' page: the sessions in the visitor's zone (19:00 in Moscow is 21:00 here).
    await page.goto(f"{service_url}/w/{series.slug}")
    await expect(page.locator("h1")).to_have_text("Автовебинар <b>1</b>")
    await expect(page.locator(f"label[for=s-{session.id}] time")).to_contain_text("21:00")
    await expect(page.locator("#s-jit")).to_be_checked()  # the soonest: just in time

    # Twelve minutes after the start the session is live (the scheduler moved it).
    clock.advance(session.starts_at + 12 * 60 - clock.now())
    await AutoSessions(service.hub, clock).tick()
    await service.hub.drain()
    lead = await make_lead(clock, "Анна")
    await register(service.hub, clock, session, lead)
    await page.goto(str(service.links.room_link(session, lead.id)))
    await expect(page.locator("#stage-player")).to_be_visible()
    video = page.locator("#player video")
    await expect(video).to_have_attribute("data-sync", "live")
    await page.wait_for_function(
        "() => { const v = document.querySelector('#player video');"
        " return v && v.readyState >= 1 && v.currentTime >= 719; }",
        timeout=15000,
    )
    at = await video.evaluate("v => v.currentTime")
    assert 719 <= at < 740  # minute 12, not the beginning
    assert "#t=720" in await video.evaluate("v => v.currentSrc")

    # Seeking ahead of the live moment is put back to it; back in time is allowed.
    await video.evaluate("v => { v.currentTime = 1100; }")
    await page.wait_for_function(
        "() => { const v = document.querySelector('#player video');"
        " return !v.seeking && v.currentTime < 760; }",
        timeout=15000,
    )
    assert 715 <= await video.evaluate("v => v.currentTime") < 760
    await video.evaluate("v => { v.currentTime = 300; }")
    await page.wait_for_function(
        "() => { const v = document.querySelector('#player video'); return !v.seeking; }"
    )
    assert 299 <= await video.evaluate("v => v.currentTime") < 330
    await video.evaluate("v => { v.playbackRate = 4; }")  # no running ahead by speed either
    await page.wait_for_function("() => document.querySelector('#player video').playbackRate === 1")


async def test_a_youtube_recording_is_embedded_from_the_live_moment_without_controls(
    service: Any, page: Any, clock: FakeClock
) -> None:
    series = await create_auto_series(
        service.hub,
        clock,
        AutoDraft(
            title="YouTube",
            schedule="jit",
            tz="Europe/Moscow",
            recording_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            recording_duration="30",
        ),
        actor=None,
        default_tz="Europe/Moscow",
    )
    session = await jit_session(service.hub, clock, series)
    assert session is not None
    clock.advance(session.starts_at + 5 * 60 - clock.now())  # five minutes in
    await AutoSessions(service.hub, clock).tick()
    await service.hub.drain()
    lead = await make_lead(clock, "Борис")
    await register(service.hub, clock, session, lead)
    await page.goto(str(service.links.room_link(session, lead.id)))
    frame = page.locator("#player iframe")
    await expect(frame).to_have_count(1)
    src = await frame.get_attribute("src")
    assert src.startswith("https://www.youtube.com/embed/dQw4w9WgXcQ?")
    assert re.search(r"[?&]start=30[0-9](&|$)", src)
    for part in ("autoplay=1", "controls=0", "disablekb=1"):
        assert part in src
