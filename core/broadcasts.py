"""Broadcast segments and who they reach (the sending is `handlers/broadcasts.py`).

A segment is a small dict (stored in `broadcast.segment` and in the event):
`{"kind": "role", "value": "partner"}`, `{"kind": "crm", "value": "new"}`,
`{"kind": "registered"}`, `{"kind": "attendance", "value": "attended"}`; the webinar
segments may name one webinar (`"webinar": "12"`, its id as the events carry it): its
registrants, or those classified attended / not attended at it.
Recipients are chats: users with the role (`app_user.chat_id`) or leads
(`lead_entry.chat_id`); each chat once, chats that blocked the bot left out.
"""

from __future__ import annotations

from core.telegram_limits import TEXT_LIMIT, visible_length
from models import (
    CrmStatus,
    EventRecord,
    LeadEntry,
    Role,
    TelegramChat,
    User,
    Webinar,
    WebinarStatus,
)

ATTENDANCE = ("attended", "not_attended")
PROGRESS_KEY = "bc:{id}:progress"
RECIPIENT_KEY = "bc:{id}:to:{chat_id}"


def parse_segment(kind: str, value: str = "", webinar: int = 0) -> dict[str, str] | None:
    """The segment a button names, or None when it names none (`webinar` 0: any webinar)."""
    if webinar and kind not in ("registered", "attendance"):
        return None
    of = {"webinar": str(webinar)} if webinar > 0 else {}
    if kind == "role" and value in Role._value2member_map_:
        return {"kind": kind, "value": value}
    if kind == "crm" and value in CrmStatus._value2member_map_:
        return {"kind": kind, "value": value}
    if kind == "registered" and not value:
        return {"kind": kind, **of}
    if kind == "attendance" and value in ATTENDANCE:
        return {"kind": kind, "value": value, **of}
    return None


async def segment_webinars(limit: int = 3) -> list[Webinar]:
    """The webinars the broadcast menu offers segments of: the latest by start, not
    cancelled."""
    return (
        await Webinar.exclude(status=WebinarStatus.CANCELLED)
        .order_by("-starts_at", "-id")
        .limit(limit)
    )


class IncompleteBroadcast(ValueError):
    """A draft that cannot be sent as it is (no text, a text Telegram would refuse, no
    valid segment); the message says what is missing."""


def check_complete(segment: dict[str, str], text: str) -> None:
    """Raise `IncompleteBroadcast` unless `segment` and `text` make a message that can go.

    Confirming checks this whatever the screen showed: a Confirm button can be pressed
    (or forged) for a draft whose text was never given."""
    webinar = segment.get("webinar", "0")
    number = int(webinar) if webinar.isdigit() else -1
    if parse_segment(segment.get("kind", ""), segment.get("value", ""), number) != segment:
        raise IncompleteBroadcast("the broadcast has no valid segment")
    if not text.strip():
        raise IncompleteBroadcast("the broadcast has no text")
    if visible_length(text) > TEXT_LIMIT:
        raise IncompleteBroadcast(f"the text is longer than {TEXT_LIMIT} characters")


async def recipients(segment: dict[str, str]) -> list[int]:
    """The chats a broadcast to `segment` reaches now: unique, reachable, sorted."""
    kind, value = segment.get("kind"), segment.get("value", "")
    chats: list[int]
    if kind == "role":
        rows = await User.filter(role=value, chat_id__not_isnull=True).values_list(
            "chat_id", flat=True
        )
        chats = [int(c) for c in rows]  # type: ignore[call-overload]
    elif kind == "crm":
        rows = await LeadEntry.filter(crm_status=value, chat_id__not_isnull=True).values_list(
            "chat_id", flat=True
        )
        chats = [int(c) for c in rows]  # type: ignore[call-overload]
    elif kind in ("registered", "attendance"):
        name = "client_webinar_registered"
        if kind == "attendance":
            name = "client_webinar_attendance_classified"
        events = EventRecord.filter(name=name, lead_id__not_isnull=True)
        if segment.get("webinar"):
            events = events.filter(webinar_id=segment["webinar"])
        rows = await events.values_list("lead_id", "payload")
        ids = {lead for lead, p in rows if kind == "registered" or p.get("attendance") == value}
        chats = await _lead_chats(sorted(ids))
    else:
        return []
    blocked = set(
        await TelegramChat.filter(chat_id__in=chats, unreachable_at__not_isnull=True).values_list(
            "chat_id", flat=True
        )
    )
    return sorted(set(chats) - blocked)


async def _lead_chats(lead_ids: list[int]) -> list[int]:
    rows = await LeadEntry.filter(id__in=lead_ids, chat_id__not_isnull=True).values_list(
        "chat_id", flat=True
    )
    return [int(c) for c in rows]  # type: ignore[call-overload]
