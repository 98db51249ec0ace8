"""Group commit and bulk inserts: the ingest's speed must not change what it does."""

from __future__ import annotations

import asyncio

import pytest

from core.bulk import insert_rows
from core.clock import FakeClock
from core.contact import Contact
from core.events import CoreLeadCreated
from core.hub import Publisher, SignalHub
from core.ingest import core_ingest_event
from models import EventRecord, LeadEntry, LeadTouch


def person(phone: str | None = None, email: str | None = None, name: str = "Анна") -> Contact:
    return Contact(
        source="web_form",
        name=name,
        phone=phone,
        email=email,
        ref=None,
        tz=None,
        webinar_id=None,
        utm={},
    )


async def test_concurrent_ingests_share_commits_and_each_gets_its_own_lead(
    hub: SignalHub, clock: FakeClock
) -> None:
    results = await asyncio.gather(
        *(core_ingest_event(hub, clock, person(f"+7916{i:07d}")) for i in range(200))
    )
    batches = hub.group_commits
    assert batches < 50  # one transaction for many ingests, not one each
    assert all(r.created for r in results)
    leads = dict(await LeadEntry.all().values_list("id", "phone"))
    assert [leads[r.lead_id] for r in results] == [f"+7916{i:07d}" for i in range(200)]
    created = await EventRecord.filter(name="core_lead_created").values("lead_id")
    assert sorted(row["lead_id"] for row in created) == sorted(r.lead_id for r in results)
    assert await LeadTouch.all().count() == 200


async def test_a_person_twice_in_one_batch_is_created_then_touched(
    hub: SignalHub, clock: FakeClock
) -> None:
    now = clock.now()
    await LeadEntry.create(
        phone="+79990000000",
        email="taken@example.com",
        lead_source="web_form",
        first_touch_at=int(now),
        lead_created_at=int(now),
        updated_at=now,
    )
    first, second, third = await asyncio.gather(
        core_ingest_event(hub, clock, person("+79161234567")),
        core_ingest_event(hub, clock, person("+79161234567", "anna@example.com")),
        # An e-mail that belongs to someone else is not taken over.
        core_ingest_event(hub, clock, person("+79161234567", "taken@example.com", name="X")),
    )
    assert [first.created, second.created, third.created] == [True, False, False]
    assert first.lead_id == second.lead_id == third.lead_id
    lead = await LeadEntry.get(id=first.lead_id)
    # The later two matched an unproven lead: what they brought stays on their touches.
    assert (lead.name, lead.email) == ("Анна", None)
    touches = await LeadTouch.filter(lead_id=lead.id).order_by("id").values_list("email", "name")
    assert touches == [(None, "Анна"), ("anna@example.com", "Анна"), ("taken@example.com", "X")]
    assert await EventRecord.filter(name="core_lead_created").count() == 1
    assert await EventRecord.filter(name="core_ingest_event").count() == 3


async def test_one_failing_item_fails_alone(hub: SignalHub, clock: FakeClock) -> None:
    async def batch(tx: Publisher, items: list[int]) -> list[int]:
        for item in items:
            if item == 3:
                raise ValueError("bad item")
        return await tx.publish_many(
            [CoreLeadCreated(timestamp=1, lead_id=i, lead_source="web_form") for i in items]
        )

    outcomes = await asyncio.gather(
        *(hub.grouped(batch, i) for i in range(6)), return_exceptions=True
    )
    assert isinstance(outcomes[3], ValueError)
    assert all(isinstance(o, int) for i, o in enumerate(outcomes) if i != 3)
    stored = await EventRecord.all().values("lead_id")
    assert sorted(row["lead_id"] for row in stored) == [0, 1, 2, 4, 5]


async def test_a_caller_that_goes_away_does_not_undo_the_work(
    hub: SignalHub, clock: FakeClock
) -> None:
    task = asyncio.create_task(core_ingest_event(hub, clock, person("+79161234567")))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The batch it joined still commits; the next caller finds the lead.
    again = await core_ingest_event(hub, clock, person("+79161234567"))
    assert not again.created
    assert await LeadEntry.all().count() == 1


async def test_insert_rows_returns_ids_in_row_order(database_url: str, clock: FakeClock) -> None:
    rows = [
        {"name": "core_lead_created", "payload": {"n": n}, "lead_id": n, "created_at": 1.0}
        for n in range(700)
    ]
    from tortoise import connections

    ids = await insert_rows(connections.get("default"), EventRecord, rows)
    stored = dict(await EventRecord.all().values_list("id", "lead_id"))
    assert [stored[i] for i in ids] == list(range(700))
