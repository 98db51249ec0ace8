"""How a person, UTM tags and a moment are written for people: one definition each, shared
by bot screens, the consumers' notices, the web pages and the command line.

Everything returns plain text (escape it where it is shown) except `person`, which is a
ready HTML fragment for Telegram notices.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from locales import N_
from models import User

SHORT_TIME = "%d.%m.%Y %H:%M"  # how bot messages write a moment


def telegram_name(user: User) -> str:
    """First and last name as Telegram gave them ("" when both are empty)."""
    return f"{user.first_name} {user.last_name}".strip()


def public_name(user: User) -> str:
    """The approved display name is what leads see; until there is one, the Telegram name."""
    return user.display_name or telegram_name(user)


def display_name(user: User) -> str:
    """The name Telegram gave us, else @username, else an id: never empty."""
    return telegram_name(user) or (
        f"@{user.username}" if user.username else str(user.telegram_id or user.id)
    )


def person_name(user: User) -> str:
    """The Telegram name with the @username (a CRM's partner column, a note's author)."""
    name = telegram_name(user)
    if user.username:
        name = f"{name} @{user.username}".strip()
    return name


def person(user: User | None, t: Callable[[str], str]) -> str:
    """A user as a notice names them (escaped HTML): public name and @username."""
    if user is None:
        return html.escape(t(N_("the system")))
    handle = f" @{user.username}" if user.username else ""
    return html.escape((public_name(user) or "—") + handle)


def utm_text(utm: Mapping[str, str]) -> str:
    """`source=x, medium=y`: the lead's UTM tags, sorted, without the `utm_` prefix."""
    return ", ".join(f"{k.removeprefix('utm_')}={v}" for k, v in sorted(utm.items()))


def local(timestamp: float, tz: str) -> datetime:
    """A unix time as a moment in the zone `tz` (an IANA name)."""
    return datetime.fromtimestamp(timestamp, UTC).astimezone(ZoneInfo(tz))


def short_time(timestamp: float, tz: str) -> str:
    """`31.12.2025 18:30`: a moment in bot messages, in the zone `tz`."""
    return f"{local(timestamp, tz):{SHORT_TIME}}"
