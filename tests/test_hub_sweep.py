"""The sweep must not queue again what a fresh event already queued (double claims)."""

from __future__ import annotations

import asyncio

from core.clock import FakeClock
from core.events import CoreLeadCreated
from core.hub import Delivery, SignalHub
from models import EventDelivery


async def test_sweep_leaves_a_fresh_events_deliveries_to_its_worker(
    database_url: str, clock: FakeClock
) -> None:
    hub = SignalHub(clock, workers=1)
    gate = asyncio.Event()
    calls: list[str] = []

    async def first(event: CoreLeadCreated, d: Delivery) -> None:
        calls.append("first")
        await gate.wait()  # the worker is busy with the first delivery of the event

    async def second(event: CoreLeadCreated, d: Delivery) -> None:
        calls.append("second")

    hub.subscribe("core_lead_created", first, name="first")
    hub.subscribe("core_lead_created", second, name="second")
    await hub.start()
    await hub.publish(CoreLeadCreated(timestamp=1, lead_id=1, lead_source="web_form"))
    while not calls:
        await asyncio.sleep(0)
    # `second` is still pending, but it belongs to the queued fresh event.
    assert await hub.sweep() == 0
    gate.set()
    await hub.drain()
    await hub.stop()
    assert calls == ["first", "second"]
    rows = await EventDelivery.all().values("subscriber", "attempts")
    assert sorted((r["subscriber"], r["attempts"]) for r in rows) == [("first", 1), ("second", 1)]
