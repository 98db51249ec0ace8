"""What a valid webinar is: the checks every entry point (CLI, bot dialog) goes through.

A `WebinarDraft` holds what someone typed, as strings; `check_draft` turns it into the
values to store or raises `WebinarInvalid` naming the field and the reason — one rule set,
so the command line and the bot refuse the same things with the same words. The reasons
are gettext msgids (`locales/`): the bot shows them translated, the CLI in English.

The seed's chat rule lives here: the internal chat exists only for `obs` webinars; a zoom
or telegram webinar's chat is the platform's, and two chats for one webinar are refused.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from core.settings import parse_duration
from core.visible import visible_line, visible_text
from locales import N_
from models import StreamType

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
URL_MAX = 1000
DURATION_MAX_MIN = 24 * 60
SLUG_MAX = 64
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
DEFAULT_ATTEND_PERCENT = 50
DEFAULT_ATTEND_MINUTES = 20

# The external platforms' own hosts: a zoom webinar's link must open Zoom, and so on.
PLATFORM_HOSTS: dict[StreamType, tuple[str, ...]] = {
    StreamType.ZOOM: ("zoom.us", "zoom.com", "zoomgov.com"),
    StreamType.TELEGRAM: ("t.me", "telegram.me", "telegram.dog"),
}

_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f h ts ch sh sch - y - e yu ya".split(),  # noqa: SIM905
        strict=True,
    )
)


class WebinarInvalid(ValueError):
    """One field is wrong: `field` names it, `reason` is a msgid with `{placeholders}`."""

    def __init__(self, field: str, reason: str, **params: Any) -> None:
        super().__init__(f"{field}: {reason.format(**params)}")
        self.field = field
        self.reason = reason
        self.params = params

    def text(self, translate: Any = None) -> str:
        """The reason in words (`translate(msgid)` for a language other than English)."""
        reason = translate(self.reason) if translate is not None else self.reason
        return str(reason).format(**self.params)


@dataclass
class WebinarDraft:
    """What was typed. None: not given (keep the stored value on edit, default on create)."""

    title: str | None = None
    description: str | None = None
    start: str | None = None  # local time in `tz`: 2026-12-01T19:00 (or with a space)
    tz: str | None = None
    duration: str | None = None  # minutes
    stream_type: str | None = None
    stream_url: str | None = None
    speaker: str | None = None  # a Telegram id
    recording_url: str | None = None  # "" removes it
    chat: str | None = None  # "on" | "off"
    slug: str | None = None
    attend_percent: str | None = None
    attend_minutes: str | None = None
    reminders: str | None = None  # "24h,1h,10m" before the start; "off" for none
    given: set[str] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        self.given = {k for k, v in vars(self).items() if k != "given" and v is not None}


def clean_text(value: str, limit: int, field_name: str, *, multiline: bool = False) -> str:
    """What people will see of it (`core/visible.py`), refused when over `limit`."""
    text = visible_text(value) if multiline else visible_line(value)
    if len(text) > limit:
        raise WebinarInvalid(field_name, N_("at most {limit} characters"), limit=limit)
    return text


def parse_title(value: str) -> str:
    title = clean_text(value, TITLE_MAX, "title")
    if not title:
        raise WebinarInvalid("title", N_("a title is needed"))
    return title


def parse_tz(value: str) -> str:
    name = value.strip()
    try:
        if not name or len(name) > 64 or ".." in name:
            raise ValueError
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise WebinarInvalid(
            "tz", N_("{value!r} is not a time zone like Europe/Moscow"), value=value
        ) from None
    return name


def parse_start(value: str, tz: str, now: float) -> float:
    """Local wall time in `tz` → unix seconds; must lie in the future."""
    text = value.strip().replace(" ", "T", 1)
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise WebinarInvalid(
            "start", N_("{value!r} is not a date and time like 2026-12-01T19:00"), value=value
        ) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zoneinfo.ZoneInfo(tz))
    starts_at = local.timestamp()
    if starts_at <= now:
        raise WebinarInvalid("start", N_("the start must be in the future"))
    return starts_at


def parse_int(value: str, field_name: str, low: int, high: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise WebinarInvalid(
            field_name, N_("a whole number from {low} to {high}"), low=low, high=high
        )
    return number


def parse_attend_percent(value: str) -> int:
    """The attendance rule's share of the live time, in % (`50` or `50%`)."""
    return parse_int(value.strip().removesuffix("%"), "attend_percent", 1, 100)


def parse_attend_minutes(value: str) -> int:
    """The attendance rule's minutes (0: the share alone decides)."""
    return parse_int(
        value.strip().removesuffix("min").strip(), "attend_minutes", 0, DURATION_MAX_MIN
    )


REMINDERS_MAX = 5
REMINDER_MAX_SECONDS = 14 * 24 * 3600


def parse_reminders(value: str) -> list[int]:
    """`24h,1h,10m` → seconds before the start, largest first; `off` → none."""
    text = value.strip().lower()
    if text in ("off", "none", "-"):
        return []
    try:
        seconds = {int(parse_duration(part.strip())) for part in text.split(",")}
    except ValueError:
        raise WebinarInvalid(
            "reminders", N_("{value!r} is not a list of times like 24h,1h,10m"), value=value
        ) from None
    if len(seconds) > REMINDERS_MAX or not all(60 <= s <= REMINDER_MAX_SECONDS for s in seconds):
        raise WebinarInvalid(
            "reminders", N_("at most {count} times, each from 1m to 14d"), count=REMINDERS_MAX
        )
    return sorted(seconds, reverse=True)


def reminders_text(seconds: Sequence[int]) -> str:
    """Seconds before the start → what `parse_reminders` takes back: `24h,1h,10m`, or `off`."""
    if not seconds:
        return "off"
    parts = []
    for s in seconds:
        unit, size = ("h", 3600) if s % 3600 == 0 else ("m", 60) if s % 60 == 0 else ("s", 1)
        parts.append(f"{s // size}{unit}")
    return ",".join(parts)


def parse_stream_type(value: str) -> StreamType:
    try:
        return StreamType(value.strip().lower())
    except ValueError:
        raise WebinarInvalid(
            "stream_type",
            N_("unknown stream type {value!r}; one of: {choices}"),
            value=value,
            choices=", ".join(s.value for s in StreamType),
        ) from None


def parse_url(value: str, field_name: str) -> str:
    url = value.strip()
    try:
        parts = urlsplit(url)
        valid = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and len(url) <= URL_MAX
            and not any(c.isspace() or unicodedata.category(c)[0] == "C" for c in url)
        )
    except ValueError:
        valid = False
    if not valid:
        raise WebinarInvalid(
            field_name, N_("{value!r} is not a web address (http:// or https://)"), value=value
        )
    return url


def check_stream_url(stream_type: StreamType, url: str) -> str:
    """A zoom/telegram link must open that platform (an obs one is our own player's)."""
    hosts = PLATFORM_HOSTS.get(stream_type)
    host = (urlsplit(url).hostname or "").lower()
    if hosts and not any(host == h or host.endswith("." + h) for h in hosts):
        raise WebinarInvalid(
            "stream_url",
            N_("a {stream_type} webinar needs a link to {hosts}"),
            stream_type=stream_type.value,
            hosts=" / ".join(hosts),
        )
    return url


def check_chat(stream_type: StreamType, chat: str | None) -> bool:
    """Whether the internal chat exists: on for obs unless turned off; never two chats."""
    wanted = None if chat is None else chat.strip().lower()
    if wanted not in (None, "on", "off"):
        raise WebinarInvalid("chat", N_("chat is on or off"))
    if stream_type is StreamType.OBS:
        return wanted != "off"
    if wanted == "on":
        raise WebinarInvalid(
            "chat",
            N_(
                "a {stream_type} webinar's chat is the platform's own: two chats for one "
                "webinar are forbidden"
            ),
            stream_type=stream_type.value,
        )
    return False


def parse_slug(value: str) -> str:
    slug = value.strip().lower()
    if not SLUG.match(slug):
        raise WebinarInvalid(
            "slug", N_("a slug is 1–64 of a-z, 0-9 and -, not starting or ending with -")
        )
    return slug


def slug_base(title: str, starts_at: float, tz: str) -> str:
    """`title-in-latin-2026-12-01`: readable in a link, and Cyrillic titles transliterated."""
    letters = []
    for char in title.lower():
        if char in _TRANSLIT:  # before decomposing: NFKD would turn й into и + a breve
            letters.append(_TRANSLIT[char].strip("-"))
            continue
        ascii_part = "".join(
            c for c in unicodedata.normalize("NFKD", char) if c.isascii() and c.isalnum()
        )
        letters.append(ascii_part or "-")
    words = re.sub(r"-+", "-", "".join(letters)).strip("-")[:40].strip("-")
    day = datetime.fromtimestamp(starts_at, zoneinfo.ZoneInfo(tz)).strftime("%Y-%m-%d")
    return f"{words}-{day}" if words else f"webinar-{day}"


# The bot's guided dialog asks one field at a time: each answer is checked here, by the
# same functions `create_webinar`/`edit_webinar` run on the whole draft, so a step refuses
# exactly what the command line would. `values` are the answers so far (strings, as typed).
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "description": ("description",),
    "start": ("start", "tz"),
    "duration": ("duration",),
    "stream_type": ("stream_type",),
    "stream_url": ("stream_url",),
    "recording_url": ("recording_url",),
    "chat": ("chat",),
    "attend_percent": ("attend_percent",),
    "attend_minutes": ("attend_minutes",),
    "reminders": ("reminders",),
}


def split_start(value: str, default_tz: str) -> tuple[str, str]:
    """`2026-12-01 19:00 Europe/Moscow` → (start, tz); without a zone, `default_tz`."""
    parts = value.split()
    if len(parts) >= 2 and ("/" in parts[-1] or parts[-1].upper() == "UTC"):
        return " ".join(parts[:-1]), parts[-1]
    return value.strip(), default_tz


def check_step(step: str, values: dict[str, str], now: float) -> None:
    """Raise `WebinarInvalid` when the answer to `step` in `values` is not valid."""
    if step == "title":
        parse_title(values.get("title", ""))
    elif step == "description":
        clean_text(values.get("description", ""), DESCRIPTION_MAX, "description", multiline=True)
    elif step == "start":
        tz = parse_tz(values.get("tz", ""))
        parse_start(values.get("start", ""), tz, now)
    elif step == "duration":
        parse_int(values.get("duration", ""), "duration", 1, DURATION_MAX_MIN)
    elif step == "stream_type":
        parse_stream_type(values.get("stream_type", ""))
    elif step == "stream_url":
        kind = parse_stream_type(values.get("stream_type", ""))
        check_stream_url(kind, parse_url(values.get("stream_url", ""), "stream_url"))
    elif step == "recording_url":
        if values.get("recording_url", "").strip():
            parse_url(values["recording_url"], "recording_url")
    elif step == "chat":
        check_chat(parse_stream_type(values.get("stream_type", "")), values.get("chat") or None)
    elif step == "attend_percent":
        parse_attend_percent(values.get("attend_percent", ""))
    elif step == "attend_minutes":
        parse_attend_minutes(values.get("attend_minutes", ""))
    elif step == "reminders":
        parse_reminders(values.get("reminders", ""))
    else:
        raise ValueError(f"no such step: {step}")
