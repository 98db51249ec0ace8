"""Broadcasts: segments and who they reach, and the draft's lifecycle as Core commands.

A draft is created for a segment (`draft_broadcast`), gets its text (`set_broadcast_text`),
and is cancelled (`cancel_broadcast`) or confirmed (`confirm_draft`, inside the transaction
of `handlers/broadcasts.py`, which also queues the progress message and the sending); each
change is stored with its event in one transaction, and only the author's draft changes.

A segment is a small dict (stored in `broadcast.segment` and in the event):
`{"kind": "role", "value": "partner"}`, `{"kind": "crm", "value": "new"}`,
`{"kind": "registered"}`, `{"kind": "attendance", "value": "attended"}`; the webinar
segments may name one webinar (`"webinar": "12"`, its id as the events carry it): its
registrants, or those classified attended / not attended at it.
Recipients are chats: users with the role (`app_user.chat_id`) or leads
(`lead_entry.chat_id`); each chat once, chats that blocked the bot left out.
"""

from __future__ import annotations

from typing import Any

from core.actors import done_by
from core.attendance import VERDICTS, Stage, leads_at
from core.clock import Clock
from core.events import (
    CoreBroadcastCancelled,
    CoreBroadcastConfirmed,
    CoreBroadcastDrafted,
    CoreBroadcastTextSet,
)
from core.hub import Publisher, SignalHub
from core.telegram_limits import TEXT_LIMIT, visible_length
from models import (
    Broadcast,
    BroadcastStatus,
    CrmStatus,
    LeadEntry,
    Role,
    TelegramChat,
    User,
    Webinar,
    WebinarStatus,
)

ATTENDANCE: tuple[str, ...] = tuple(v.value for v in VERDICTS)
PROGRESS_KEY = "bc:{id}:progress"
RECIPIENT_KEY = "bc:{id}:to:{chat_id}"
ROLE_VALUES = frozenset(r.value for r in Role)
CRM_VALUES = frozenset(s.value for s in CrmStatus)


def parse_segment(kind: str, value: str = "", webinar: int = 0) -> dict[str, str] | None:
    """The segment a button names, or None when it names none (`webinar` 0: any webinar)."""
    if webinar and kind not in ("registered", "attendance"):
        return None
    of = {"webinar": str(webinar)} if webinar > 0 else {}
    if kind == "role" and value in ROLE_VALUES:
        return {"kind": kind, "value": value}
    if kind == "crm" and value in CRM_VALUES:
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


def _drafts_of(author: User, broadcast_id: int, publisher: Publisher) -> Any:
    return Broadcast.filter(
        id=broadcast_id, author_id=author.id, status=BroadcastStatus.DRAFT
    ).using_db(publisher.connection)


async def author_draft(broadcast_id: int, author: User) -> Broadcast | None:
    """`author`'s broadcast `broadcast_id` while it is still a draft."""
    return await Broadcast.get_or_none(
        id=broadcast_id, author_id=author.id, status=BroadcastStatus.DRAFT
    )


async def draft_broadcast(
    hub: SignalHub, clock: Clock, author: User, kind: str, value: str = "", webinar: int = 0
) -> Broadcast | None:
    """A new draft to the segment `kind`/`value` (of one webinar, or any); None when they
    name no segment."""
    segment = parse_segment(kind, value, webinar)
    if segment is None:
        return None
    async with hub.transaction() as tx:
        now = clock.now()
        draft = await Broadcast.create(
            author_id=author.id, segment=segment, created_at=now, using_db=tx.connection
        )
        await tx.publish(
            CoreBroadcastDrafted(
                timestamp=int(now), broadcast_id=draft.id, segment=dict(segment), **done_by(author)
            )
        )
    return draft


async def set_broadcast_text(
    hub: SignalHub, clock: Clock, broadcast_id: int, author: User, text: str
) -> bool:
    """Give `author`'s draft its text; False when it is no longer a draft (a confirmed
    broadcast sends what was confirmed)."""
    async with hub.transaction() as tx:
        if not await _drafts_of(author, broadcast_id, tx).update(text=text):
            return False
        await tx.publish(
            CoreBroadcastTextSet(
                timestamp=int(clock.now()),
                broadcast_id=broadcast_id,
                text=text,
                **done_by(author),
            )
        )
    return True


async def cancel_broadcast(hub: SignalHub, clock: Clock, broadcast_id: int, author: User) -> bool:
    """Cancel `author`'s draft; False when it is no longer one (nothing changes)."""
    async with hub.transaction() as tx:
        if not await _drafts_of(author, broadcast_id, tx).update(status=BroadcastStatus.CANCELLED):
            return False
        await tx.publish(
            CoreBroadcastCancelled(
                timestamp=int(clock.now()),
                broadcast_id=broadcast_id,
                reason="author",
                **done_by(author),
            )
        )
    return True


async def confirm_draft(
    tx: Publisher, clock: Clock, draft: Broadcast, total: int, chat_id: int, actor: User
) -> bool:
    """In `tx`: the draft, with the text it has in `draft`, goes SENDING to `total` chats
    (`core_broadcast_confirmed`), or is cancelled when `total` is 0. False when it is no
    longer that draft (a second press, a cancel, a text changed since): nothing happens."""
    now = clock.now()
    taken = await (
        _drafts_of(actor, draft.id, tx)
        .filter(text=draft.text)
        .update(
            status=BroadcastStatus.SENDING if total else BroadcastStatus.CANCELLED,
            confirmed_at=now,
            total=total,
            progress_chat_id=chat_id,
        )
    )
    if not taken:
        return False
    if total:
        await tx.publish(
            CoreBroadcastConfirmed(
                timestamp=int(now),
                broadcast_id=draft.id,
                segment=dict(draft.segment),
                total=total,
                **done_by(actor),
            )
        )
    else:
        await tx.publish(
            CoreBroadcastCancelled(
                timestamp=int(now),
                broadcast_id=draft.id,
                reason="empty_segment",
                **done_by(actor),
            )
        )
    return True


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
    elif kind == "registered":
        leads = await leads_at(Stage.REGISTERED, webinar_id=segment.get("webinar"))
        chats = await _lead_chats(sorted(leads))
    elif kind == "attendance" and value in ATTENDANCE:
        leads = await leads_at(Stage(value), webinar_id=segment.get("webinar"))
        chats = await _lead_chats(sorted(leads))
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
