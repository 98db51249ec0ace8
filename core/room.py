"""The webinar room as Core sees it: what a room shows, and a lead entering it.

`room_view` is the one answer to "what does the room show now" — the page renders it and
the live connection pushes it when it changes, so the two can never disagree. The player
is chosen by the stream address: an HLS playlist (`.m3u8`) is played by hls.js, a video
file by the browser, a YouTube/VK/Rutube page by that platform's own embed (watch links
are turned into embed links), anything else is framed as the embeddable player page the
speaker gave. A zoom or telegram webinar has no player: the room offers the platform.

`enter_room` is tracker v2's entry (the old `template_redirect`): the first entry of a
lead records `client_webinar_entered` once, with the registration's `entered_at`, in one
transaction. A lead holding a valid link who is not registered (links are minted for
registrants, so the registration was lost or the link was handed out by another path)
is registered on entry, source `room_link`: entering is the stronger intent, and
attendance then counts them like everyone else.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from core.clock import Clock
from core.events import ClientWebinarEntered
from core.hub import SignalHub
from core.webinars import Registration, register_many
from models import LeadEntry, StreamType, User, Webinar, WebinarRegistration, WebinarStatus

VIDEO_SUFFIXES = (".mp4", ".webm", ".ogv", ".mov")
YOUTUBE_HOSTS = ("youtube.com", "youtube-nocookie.com")
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")
_RUTUBE_ID = re.compile(r"^[0-9a-f]{32}$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")
OPEN = (WebinarStatus.SCHEDULED, WebinarStatus.LIVE)


@dataclass(frozen=True)
class Player:
    """How the browser plays a stream or a recording: `hls`, `video` or `iframe`."""

    kind: str
    src: str

    @property
    def origin(self) -> str:
        """`scheme://host[:port]` for a page policy; "" when the host is not plain."""
        parts = urlsplit(self.src)
        host = (parts.hostname or "").lower()
        if not _HOST.match(host):
            return ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}"


def _host_is(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _embed(url: str) -> str:
    """A platform's watch link turned into its embed link; other addresses unchanged."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/")
    video_id = ""
    if _host_is(host, YOUTUBE_HOSTS):
        if path == "/watch":
            video_id = parse_qs(parts.query).get("v", [""])[0]
        elif path.startswith("/live/"):
            video_id = path.removeprefix("/live/")
    elif host == "youtu.be":
        video_id = path.lstrip("/")
    if video_id:
        return f"https://www.youtube.com/embed/{video_id}" if _YOUTUBE_ID.match(video_id) else url
    if _host_is(host, ("rutube.ru",)) and path.startswith("/video/"):
        rutube_id = path.removeprefix("/video/")
        if _RUTUBE_ID.match(rutube_id):
            return f"https://rutube.ru/play/embed/{rutube_id}"
    return url


def player_for(url: str | None) -> Player | None:
    """The player for a stream or recording address (None: no address)."""
    if not url:
        return None
    path = urlsplit(url).path.lower()
    if path.endswith(".m3u8"):
        return Player("hls", url)
    if path.endswith(VIDEO_SUFFIXES):
        return Player("video", url)
    return Player("iframe", _embed(url))


@dataclass(frozen=True)
class RoomView:
    """What the room of one webinar shows now (the same for every viewer)."""

    webinar_id: int
    title: str
    status: str
    starts_at: float
    ends_at: float
    stream_type: str
    player: Player | None  # obs, while live
    join_url: str | None  # zoom/telegram, while live: opened in a new tab
    recording: Player | None  # after the webinar, when there is one
    chat: bool  # the internal chat is shown (obs with chat, while live)
    chat_open: bool
    offer: bool = False  # the speaker's call-to-action form is shown (`core/offers.py`)

    @property
    def stage(self) -> str:
        """What fills the room: scheduled | player | external | finished | cancelled."""
        if self.status == WebinarStatus.LIVE:
            return "external" if self.join_url else "player"
        return self.status

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "stage": self.stage}


def room_view(webinar: Webinar) -> RoomView:
    status = WebinarStatus(webinar.status)
    stream_type = StreamType(webinar.stream_type)
    live = status is WebinarStatus.LIVE
    internal = stream_type is StreamType.OBS
    return RoomView(
        webinar_id=webinar.id,
        title=webinar.title,
        status=status.value,
        starts_at=webinar.starts_at,
        ends_at=webinar.ends_at,
        stream_type=stream_type.value,
        player=player_for(webinar.stream_url) if live and internal else None,
        join_url=webinar.stream_url if live and not internal else None,
        recording=player_for(webinar.recording_url) if status is WebinarStatus.FINISHED else None,
        chat=live and internal and webinar.chat_enabled,
        chat_open=webinar.chat_open,
        offer=live and webinar.offer_open,
    )


@dataclass(frozen=True)
class Entry:
    first: bool  # this entry recorded `client_webinar_entered`
    registered: bool  # the lead was registered by entering


async def enter_room(
    hub: SignalHub, clock: Clock, webinar: Webinar, lead_id: int, *, via: str
) -> Entry:
    """A lead comes into the room (`via`: link | mini_app). Records the first entry while
    the webinar is scheduled or live; after it (or when cancelled) nothing is recorded."""
    if WebinarStatus(webinar.status) not in OPEN:
        return Entry(first=False, registered=False)
    now = clock.now()
    source = "room_link" if via == "link" else f"room_{via}"
    async with hub.transaction() as tx:
        [registered] = await register_many(tx, clock, [Registration(webinar.id, lead_id, source)])
        first = (
            await WebinarRegistration.filter(
                webinar_id=webinar.id, lead_id=lead_id, entered_at__isnull=True
            )
            .using_db(tx.connection)
            .update(entered_at=now)
        )
        if first:
            await tx.publish(
                ClientWebinarEntered(
                    timestamp=int(now), webinar_id=webinar.webinar_id, lead_id=lead_id, via=via
                )
            )
    return Entry(first=bool(first), registered=registered)


async def lead_of_user(webinar: Webinar, user: User) -> LeadEntry | None:
    """The lead a Telegram user is (bound through the bot): the one registered for this
    webinar if any, else their most recent one."""
    leads = await LeadEntry.filter(user_id=user.id).order_by("-id")
    if not leads:
        return None
    registered = set(
        await WebinarRegistration.filter(
            webinar_id=webinar.id, lead_id__in=[lead.id for lead in leads]
        ).values_list("lead_id", flat=True)
    )
    return next((lead for lead in leads if lead.id in registered), leads[0])
