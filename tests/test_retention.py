"""Retention prunes only finished bookkeeping older than RETENTION (SQLite and PostgreSQL):
sent messages, done deliveries, long-expired deep links and visit de-dup keys; the event
log only when asked, and never an event with work still pending."""

from __future__ import annotations

import itertools
from typing import cast

from core.clock import FakeClock
from core.contact import RawContact, normalise
from core.hub import Delivery, SignalHub
from core.ingest import core_ingest_event
from core.retention import prune
from models import (
    DeliveryStatus,
    EventDelivery,
    EventRecord,
    LeadTouch,
    OutboxMessage,
    OutboxStatus,
    RefVisit,
)

DAY = 86400.0
RETENTION = 90 * DAY
numbers = itertools.count(1000000)


async def ignore(event: object, d: Delivery) -> None:
    return None


async def a_lead(clock: FakeClock) -> tuple[int, int]:
    """A lead ingested now: (its touch's id, its core_lead_created event's id)."""
    hub = SignalHub(clock, dispatch=False)
    hub.subscribe("core_lead_created", ignore, name="ignore")
    raw = RawContact(source="web_form", name="Анна", phone=f"+7916{next(numbers)}")
    result = await core_ingest_event(hub, clock, normalise(raw, region="RU", require_phone=False))
    touch = await LeadTouch.get(lead_id=result.lead_id)
    event = await EventRecord.get(name="core_lead_created", lead_id=result.lead_id)
    return touch.id, event.id


async def a_message(clock: FakeClock, status: OutboxStatus) -> int:
    row = await OutboxMessage.create(
        key=f"k{next(numbers)}",
        chat_id=1,
        payload={"text": "x"},
        status=status,
        not_before=clock.now(),
        created_at=clock.now(),
    )
    return int(row.id)


async def a_visit(clock: FakeClock) -> int:
    n = next(numbers)
    row = await RefVisit.create(code="alice", at=clock.now(), visitor=f"v{n}", period=n)
    return int(row.id)


async def finish(event_id: int, clock: FakeClock) -> None:
    await EventDelivery.filter(event_id=event_id).update(
        status=DeliveryStatus.DONE, done_at=clock.now()
    )


async def test_only_old_finished_rows_go(clock: FakeClock, database_url: str) -> None:
    old_sent = await a_message(clock, OutboxStatus.SENT)  # both go
    old_failed = await a_message(clock, OutboxStatus.UNREACHABLE)
    old_pending = await a_message(clock, OutboxStatus.PENDING)
    old_touch, old_event = await a_lead(clock)
    await finish(old_event, clock)
    busy_touch, busy_event = await a_lead(clock)  # its delivery never finished
    old_visit = await a_visit(clock)

    clock.advance(RETENTION + DAY)
    new_sent = await a_message(clock, OutboxStatus.SENT)
    new_touch, new_event = await a_lead(clock)
    await finish(new_event, clock)
    new_visit = await a_visit(clock)

    pruned = await prune(
        clock, retention=RETENTION, token_ttl=30 * DAY, visit_window=DAY, batch=2, pause=0
    )
    assert (pruned.outbox, pruned.deliveries, pruned.tokens, pruned.visits) == (2, 1, 2, 1)
    assert pruned.events == 0

    outbox = cast("set[int]", set(await OutboxMessage.all().values_list("id", flat=True)))
    assert outbox == {old_pending, new_sent}
    assert old_sent not in outbox
    assert old_failed not in outbox
    assert not await EventDelivery.filter(event_id=old_event).exists()
    assert await EventDelivery.filter(event_id=busy_event, status="pending").exists()
    assert await EventDelivery.filter(event_id=new_event).exists()
    # The touches stay (what people brought); only their long-expired links are gone.
    tokens = dict(await LeadTouch.all().values_list("id", "start_token"))
    assert tokens[old_touch] == f"~{old_touch}"
    assert tokens[busy_touch] == f"~{busy_touch}"
    assert not tokens[new_touch].startswith("~")
    # Visits stay counted; only the old one's de-dup key is forgotten.
    visits = {v.id: v for v in await RefVisit.all()}
    assert set(visits) == {old_visit, new_visit}
    assert visits[old_visit].visitor is None
    assert visits[new_visit].visitor is not None
    # The event log is the audit: kept.
    assert await EventRecord.filter(id__in=[old_event, busy_event]).count() == 2

    again = await prune(clock, retention=RETENTION, token_ttl=30 * DAY, visit_window=DAY)
    assert again.as_dict() == dict.fromkeys(again.as_dict(), 0)


async def test_the_event_log_goes_only_when_asked_and_never_with_work_pending(
    clock: FakeClock, database_url: str
) -> None:
    _, done_event = await a_lead(clock)
    await finish(done_event, clock)
    _, busy_event = await a_lead(clock)
    clock.advance(400 * DAY)
    _, new_event = await a_lead(clock)

    pruned = await prune(
        clock,
        retention=RETENTION,
        token_ttl=30 * DAY,
        visit_window=DAY,
        event_log_retention=365 * DAY,
        batch=1,
        pause=0,
    )
    assert pruned.events >= 1
    left = cast("set[int]", set(await EventRecord.all().values_list("id", flat=True)))
    assert done_event not in left
    assert busy_event in left  # its delivery is still pending
    assert new_event in left
    assert not await EventDelivery.filter(event_id=done_event).exists()
