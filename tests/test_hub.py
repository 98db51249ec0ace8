"""The signal hub: stored before dispatch, failures isolated and retried, crashes recovered."""

from __future__ import annotations

import asyncio

import pytest

from core.clock import FakeClock
from core.events import CoreLeadCreated
from core.hub import Delivery, SignalHub
from models import DeliveryStatus, EventDelivery, EventRecord


def lead_created(lead_id: int = 1) -> CoreLeadCreated:
    return CoreLeadCreated(timestamp=1_800_000_000, lead_id=lead_id, lead_source="web_form")


async def test_event_is_stored_and_every_subscriber_runs_once(hub: SignalHub) -> None:
    seen: list[tuple[str, int, str]] = []

    async def notify(event: CoreLeadCreated, d: Delivery) -> None:
        seen.append(("notify", event.lead_id, d.key))

    async def welcome(event: CoreLeadCreated, d: Delivery) -> None:
        seen.append(("welcome", event.lead_id, d.key))

    hub.subscribe("core_lead_created", notify, name="notify")
    hub.subscribe("core_lead_created", welcome, name="welcome")
    await hub.start()
    event_id = await hub.publish(lead_created(7))
    await hub.drain()

    record = await EventRecord.get(id=event_id)
    assert record.name == "core_lead_created"
    assert record.payload["lead_id"] == 7
    assert record.lead_id == 7
    assert sorted(seen) == [
        ("notify", 7, f"{event_id}:notify"),
        ("welcome", 7, f"{event_id}:welcome"),
    ]
    statuses = {row.status for row in await EventDelivery.filter(event_id=event_id)}
    assert statuses == {DeliveryStatus.DONE}
    # A later sweep finds nothing to do: nothing runs twice.
    assert await hub.sweep() == 0


async def test_failing_subscriber_does_not_stop_others_and_is_retried(
    hub: SignalHub, clock: FakeClock
) -> None:
    calls = {"flaky": 0, "steady": 0}

    async def flaky(event: CoreLeadCreated, d: Delivery) -> None:
        calls["flaky"] += 1
        if d.attempt < 3:
            raise RuntimeError("telegram is down")

    async def steady(event: CoreLeadCreated, d: Delivery) -> None:
        calls["steady"] += 1

    hub.subscribe("core_lead_created", flaky, name="flaky")
    hub.subscribe("core_lead_created", steady, name="steady")
    await hub.start()
    await hub.publish(lead_created())
    await hub.drain()
    assert calls == {"flaky": 1, "steady": 1}
    row = await EventDelivery.get(subscriber="flaky")
    assert row.status == DeliveryStatus.PENDING
    assert "telegram is down" in (row.last_error or "")

    # Not due yet: the retry waits for its backoff.
    await hub.sweep()
    await hub.drain()
    assert calls["flaky"] == 1
    clock.advance(1)
    await hub.sweep()
    await hub.drain()
    assert calls["flaky"] == 2
    clock.advance(5)
    await hub.sweep()
    await hub.drain()
    assert calls == {"flaky": 3, "steady": 1}
    assert (await EventDelivery.get(subscriber="flaky")).status == DeliveryStatus.DONE


async def test_gives_up_after_the_last_retry(database_url: str, clock: FakeClock) -> None:
    hub = SignalHub(clock, retry_delays=(1, 1))
    calls = 0

    async def broken(event: CoreLeadCreated, d: Delivery) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("bad")

    hub.subscribe("core_lead_created", broken, name="broken")
    await hub.start()
    await hub.publish(lead_created())
    for _ in range(5):
        await hub.drain()
        clock.advance(2)
        await hub.sweep()
    await hub.drain()
    await hub.stop()
    assert calls == 2
    row = await EventDelivery.get(subscriber="broken")
    assert row.status == DeliveryStatus.FAILED


async def test_work_interrupted_by_a_crash_is_picked_up_on_start(
    database_url: str, clock: FakeClock
) -> None:
    # First life: the event is stored, then the process dies inside the consumer.
    started = asyncio.Event()

    async def hangs(event: CoreLeadCreated, d: Delivery) -> None:
        started.set()
        await asyncio.Event().wait()

    first = SignalHub(clock)
    first.subscribe("core_lead_created", hangs, name="notify")
    await first.start()
    await first.publish(lead_created(3))
    await started.wait()
    await first.stop()  # like kill -9: the delivery row stays `running`
    assert (await EventDelivery.get(subscriber="notify")).status == DeliveryStatus.RUNNING

    # Second life: the same subscriber name finishes the work, exactly once.
    seen: list[int] = []

    async def notify(event: CoreLeadCreated, d: Delivery) -> None:
        seen.append(event.lead_id)

    second = SignalHub(clock)
    second.subscribe("core_lead_created", notify, name="notify")
    await second.start()
    await second.drain()
    await second.sweep()
    await second.drain()
    await second.stop()
    assert seen == [3]


async def test_stored_but_never_dispatched_is_delivered_on_start(
    database_url: str, clock: FakeClock
) -> None:
    # A process that only stores (the CLI, or one killed right after the commit).
    writer = SignalHub(clock, dispatch=False)
    writer.subscribe("core_lead_created", _noop, name="notify")
    await writer.publish(lead_created(9))

    seen: list[int] = []

    async def notify(event: CoreLeadCreated, d: Delivery) -> None:
        seen.append(event.lead_id)

    service = SignalHub(clock)
    service.subscribe("core_lead_created", notify, name="notify")
    await service.start()
    await service.drain()
    await service.stop()
    assert seen == [9]


async def test_a_rolled_back_transaction_publishes_nothing(hub: SignalHub) -> None:
    seen: list[int] = []

    async def notify(event: CoreLeadCreated, d: Delivery) -> None:
        seen.append(event.lead_id)

    hub.subscribe("core_lead_created", notify, name="notify")
    await hub.start()

    async def half_way() -> None:
        async with hub.transaction() as tx:
            await tx.publish(lead_created(5))
            raise RuntimeError("validation failed half-way")

    with pytest.raises(RuntimeError):
        await half_way()
    await hub.drain()
    assert seen == []
    assert await EventRecord.all().count() == 0


def test_unknown_event_names_are_refused(clock: FakeClock) -> None:
    hub = SignalHub(clock)
    with pytest.raises(KeyError, match="not in the event catalogue"):
        hub.subscribe("lead_made", _noop)


async def _noop(event: object, d: Delivery) -> None:
    return None
