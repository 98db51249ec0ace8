"""Attendance at the stop: each registered lead classified exactly once (also when the
process dies mid-way), the rule's boundaries, completion and its canonical form once
each, and the route stored with the classification."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import main
from core.classification import BATCH, attended, classify_batch
from core.clock import FakeClock
from core.hub import SignalHub
from core.presence import PresenceTracker
from core.webinars import set_status
from models import (
    DeliveryStatus,
    EventDelivery,
    EventRecord,
    LeadEntry,
    Webinar,
    WebinarAttendance,
    WebinarRegistration,
    WebinarStatus,
)
from tests.room_support import make_lead, make_webinar, register

HOUR = 3600.0


def test_the_rule_at_its_boundaries() -> None:
    live = HOUR
    assert attended(1800, live, 50, 20)  # exactly 50%
    assert attended(1200, live, 50, 20)  # exactly 20 minutes
    assert not attended(1199, live, 50, 20)  # just under both
    assert attended(1199, live, 33, 20)  # ≥ 33% of an hour
    assert not attended(1799, 4 * HOUR, 50, 0)  # 0 minutes: only the share counts
    assert not attended(0, 0, 50, 20)  # nobody attends a webinar they never saw


async def events(name: str, webinar: Webinar) -> list[dict[str, Any]]:
    rows = await EventRecord.filter(name=name, webinar_id=str(webinar.id)).order_by("id")
    return [r.payload for r in rows]


async def present(webinar: Webinar, lead: LeadEntry, seconds: float, last_seen: float) -> None:
    await WebinarRegistration.filter(webinar_id=webinar.id, lead_id=lead.id).update(
        seconds_present=seconds, last_seen_at=last_seen
    )


@pytest.fixture
def wired(settings, clock: FakeClock, hub: SignalHub) -> PresenceTracker:
    presence = PresenceTracker()
    main.wire(settings, clock, hub, presence=presence)
    return presence


async def test_each_lead_is_classified_once_with_its_route_and_completion(
    wired, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock, duration="60")
    leads = {}
    for name in ("half", "twenty", "under", "absent", "to_the_end"):
        leads[name] = await make_lead(clock, name)
        await register(hub, clock, webinar, leads[name])
    await hub.start()
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    start = clock.now()
    clock.advance(HOUR)
    end = clock.now()
    await present(webinar, leads["half"], HOUR / 2, start + HOUR / 2)  # exactly 50%
    await present(webinar, leads["twenty"], 1200, end)  # exactly 20 min, there at the stop
    await present(webinar, leads["under"], 1199, start + 1199)  # just under
    await present(webinar, leads["to_the_end"], HOUR, end)
    await set_status(hub, clock, webinar.id, WebinarStatus.FINISHED, actor=None)
    await hub.drain()
    await hub.drain()

    classified = {
        p["lead_id"]: p for p in await events("client_webinar_attendance_classified", webinar)
    }
    by_name = {name: classified[lead.id] for name, lead in leads.items()}
    assert {n: p["attendance"] for n, p in by_name.items()} == {
        "half": "attended",
        "twenty": "attended",
        "under": "not_attended",
        "absent": "not_attended",
        "to_the_end": "attended",
    }
    assert by_name["twenty"]["minutes"] == 20
    assert by_name["under"]["minutes"] == 19
    assert by_name["half"]["seconds_present"] == 1800
    routes = {p["lead_id"]: p["route"] for p in await events("post_webinar_route", webinar)}
    assert routes == {lead_id: p["attendance"] for lead_id, p in classified.items()}

    completed = [p["lead_id"] for p in await events("client_webinar_completed", webinar)]
    assert sorted(completed) == sorted([leads["twenty"].id, leads["to_the_end"].id])
    canonical = await events("webinar_completed", webinar)
    assert sorted(p["lead_id"] for p in canonical) == sorted(completed)
    assert all(p["webinar_id"] == str(webinar.id) and p["timestamp"] for p in canonical)

    # The stop delivered again (a retry, a restart): nothing new.
    counts = await EventRecord.all().count()
    await set_status(hub, clock, webinar.id, WebinarStatus.FINISHED, actor=None)
    delivery = await EventDelivery.filter(subscriber="classify_attendance").order_by("-id").first()
    assert delivery is not None
    await EventDelivery.filter(id=delivery.id).update(status=DeliveryStatus.PENDING)
    await hub.sweep()
    await hub.drain()
    normalise = await EventDelivery.filter(subscriber="normalise_completion").first()
    assert normalise is not None
    await EventDelivery.filter(id=normalise.id).update(status=DeliveryStatus.PENDING)
    await hub.sweep()
    await hub.drain()
    assert await EventRecord.all().count() == counts


async def test_a_crash_mid_classification_neither_skips_nor_repeats_a_lead(
    settings, clock: FakeClock, hub: SignalHub
) -> None:
    main.wire(settings, clock, hub)
    webinar = await make_webinar(hub, clock)
    total = BATCH * 2 + 37
    for i in range(total):
        await register(hub, clock, webinar, await make_lead(clock, f"lead {i}"))
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    clock.advance(HOUR)
    # The stop is stored; the process classifies one batch and is killed (-9) there: its
    # delivery stays `running`, the other batches never ran.
    await set_status(hub, clock, webinar.id, WebinarStatus.FINISHED, actor=None)
    stopped = await Webinar.get(id=webinar.id)
    assert await classify_batch(hub, clock, stopped) == BATCH
    last = await EventDelivery.filter(subscriber="classify_attendance").order_by("-id").first()
    assert last is not None
    await EventDelivery.filter(id=last.id).update(status=DeliveryStatus.RUNNING)

    restarted = SignalHub(clock)  # a new process: new hub, the same consumers
    main.wire(settings, clock, restarted)
    await restarted.start()  # running work of the dead process is pending again
    await restarted.drain()
    while await restarted.sweep():  # as the scheduler does each second: the rest of the
        await restarted.drain()  # backlog (each sweep takes the oldest SWEEP_LIMIT)
    await restarted.stop()

    classified = await events("client_webinar_attendance_classified", webinar)
    per_lead = Counter(p["lead_id"] for p in classified)
    assert len(per_lead) == total
    assert set(per_lead.values()) == {1}
    routes = Counter(p["lead_id"] for p in await events("post_webinar_route", webinar))
    assert routes == per_lead
    assert await WebinarAttendance.filter(webinar_id=webinar.id).count() == total
    delivery = await EventDelivery.get(id=last.id)
    assert delivery.status == DeliveryStatus.DONE
