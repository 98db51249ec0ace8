"""The broadcast draft's lifecycle as Core commands: each change stored with its event,
only the author's draft changes, and a draft that is gone takes nothing."""

from __future__ import annotations

from core.broadcasts import cancel_broadcast, confirm_draft, draft_broadcast, set_broadcast_text
from core.clock import FakeClock
from core.hub import SignalHub
from models import Broadcast, BroadcastStatus, EventRecord, Role, User


async def make_user(clock: FakeClock, telegram_id: int, role: Role = Role.ADMIN) -> User:
    now = clock.now()
    return await User.create(telegram_id=telegram_id, role=role, created_at=now, updated_at=now)


async def logged() -> list[tuple[str, dict[str, object]]]:
    return [(e.name, e.payload) for e in await EventRecord.all().order_by("id")]


async def test_draft_text_cancel_are_events_and_only_the_author_changes_a_draft(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    ada, bob = await make_user(clock, 1), await make_user(clock, 2)
    assert await draft_broadcast(hub, clock, ada, "role", "emperor") is None
    draft = await draft_broadcast(hub, clock, ada, "role", "partner")
    assert draft is not None

    assert not await set_broadcast_text(hub, clock, draft.id, bob, "not his")
    assert await set_broadcast_text(hub, clock, draft.id, ada, "<b>Hi</b>")
    assert not await cancel_broadcast(hub, clock, draft.id, bob)
    assert await cancel_broadcast(hub, clock, draft.id, ada)
    # Cancelled: neither a text nor a second cancel changes it.
    assert not await set_broadcast_text(hub, clock, draft.id, ada, "later")
    assert not await cancel_broadcast(hub, clock, draft.id, ada)

    stored = await Broadcast.get(id=draft.id)
    assert (stored.status, stored.text, stored.segment) == (
        BroadcastStatus.CANCELLED,
        "<b>Hi</b>",
        {"kind": "role", "value": "partner"},
    )
    events = await logged()
    assert [name for name, _ in events] == [
        "core_broadcast_drafted",
        "core_broadcast_text_set",
        "core_broadcast_cancelled",
    ]
    assert all(p["broadcast_id"] == draft.id for _, p in events)
    assert all(p["actor"] == f"user:{ada.id}" for _, p in events)
    assert events[0][1]["segment"] == {"kind": "role", "value": "partner"}
    assert events[1][1]["text"] == "<b>Hi</b>"
    assert events[2][1]["reason"] == "author"


async def test_confirming_to_nobody_cancels_and_a_changed_text_takes_nothing(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    ada = await make_user(clock, 1)
    draft = await draft_broadcast(hub, clock, ada, "crm", "new")
    assert draft is not None
    await set_broadcast_text(hub, clock, draft.id, ada, "first")
    seen = await Broadcast.get(id=draft.id)
    await set_broadcast_text(hub, clock, draft.id, ada, "second")  # after it was read
    async with hub.transaction() as tx:
        assert not await confirm_draft(tx, clock, seen, 0, 1, ada)

    seen = await Broadcast.get(id=draft.id)
    async with hub.transaction() as tx:
        assert await confirm_draft(tx, clock, seen, 0, 1, ada)
    assert (await Broadcast.get(id=draft.id)).status == BroadcastStatus.CANCELLED
    name, payload = (await logged())[-1]
    assert (name, payload["reason"]) == ("core_broadcast_cancelled", "empty_segment")
