"""A burst of form registrations for a webinar (an ad campaign): the consumers of
`client_webinar_registered` take it in batches, and every registrant gets exactly what
one registration gives — once, also when every delivery is run a second time."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import main
from core.clock import FakeClock
from core.contact import RawContact, normalise
from core.hub import SignalHub
from core.ingest import core_ingest_event
from core.settings import Settings
from core.webinar_rules import WebinarDraft
from core.webinars import create_webinar
from models import (
    DeliveryStatus,
    EventDelivery,
    LeadEntry,
    OutboxMessage,
    Role,
    ScenarioRun,
    User,
    WebinarRegistration,
)

PARTNER_CHAT = 900
RETURNING = 5
NEW = 200


async def ingest(hub: SignalHub, clock: FakeClock, n: int, webinar_id: str | None) -> int:
    raw = RawContact(source="web_form", name="Анна", phone=f"+7916{1000000 + n}", ref="pavel")
    contact = replace(normalise(raw, region="RU", require_phone=True), webinar_id=webinar_id)
    return (await core_ingest_event(hub, clock, contact)).lead_id


async def run_everything(settings: Settings, clock: FakeClock) -> None:
    """The consumers of everything stored, as the service runs them (in batches)."""
    worker = SignalHub(clock)
    main.wire(settings, clock, worker)
    await worker.start()
    try:
        for _ in range(200):
            await worker.sweep()
            await worker.drain()
            unfinished = EventDelivery.filter(
                status__in=(DeliveryStatus.PENDING, DeliveryStatus.RUNNING)
            )
            if not await unfinished.exists():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the hub did not finish its work")
    finally:
        await worker.stop()


async def test_a_burst_of_registrations_is_handled_once_each(
    settings: Settings, clock: FakeClock
) -> None:
    stored = SignalHub(clock, dispatch=False)  # the burst is stored first: a backlog
    main.wire(settings, clock, stored)
    draft = WebinarDraft(
        title="Партнёрство",
        start="2027-02-01T19:00",
        tz="Europe/Moscow",
        duration="90",
        stream_type="obs",
        stream_url="https://cdn.example.com/live.m3u8",
    )
    webinar = await create_webinar(stored, clock, draft, actor=None, default_tz="Europe/Moscow")
    await User.create(
        telegram_id=PARTNER_CHAT,
        chat_id=PARTNER_CHAT,
        role=Role.PARTNER,
        ref_code="pavel",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    # Leads who came before, through the partner, and have the bot open.
    returning = [await ingest(stored, clock, n, None) for n in range(RETURNING)]
    for n, lead_id in enumerate(returning):
        await LeadEntry.filter(id=lead_id).update(chat_id=5000 + n)
    # The campaign: the returning ones register, and many new ones, all at once.
    await asyncio.gather(
        *(ingest(stored, clock, n, str(webinar.id)) for n in range(RETURNING + NEW))
    )
    assert await WebinarRegistration.all().count() == RETURNING + NEW

    await run_everything(settings, clock)
    first = await what_people_got()
    # Every delivery again (a crash after the work, before it was marked done): nothing new.
    await EventDelivery.all().update(status=DeliveryStatus.PENDING, next_attempt_at=clock.now())
    await run_everything(settings, clock)
    assert await what_people_got() == first

    reminders, welcomes, partner, chats = first
    assert reminders == RETURNING + NEW  # one reminders run per registrant
    assert welcomes == RETURNING + NEW  # one welcome per lead
    # The partner: a notice per new lead (which names the webinar), and one "registered"
    # per returning lead, whose first form registered them for nothing.
    assert partner == RETURNING + NEW + RETURNING
    # One confirmation each, and the welcome: their chats were open when their welcome
    # runs started, and a run's first steps are taken as it starts.
    assert chats == {5000 + n: 2 for n in range(RETURNING)}
    assert not await EventDelivery.filter(status=DeliveryStatus.FAILED).exists()


async def what_people_got() -> tuple[int, int, int, dict[int, int]]:
    reminders = await ScenarioRun.filter(scenario="webinar_reminders").count()
    welcomes = await ScenarioRun.filter(scenario="welcome").count()
    partner = await OutboxMessage.filter(chat_id=PARTNER_CHAT).count()
    chats: dict[int, int] = {}
    for message in await OutboxMessage.filter(chat_id__gte=5000):
        chats[message.chat_id] = chats.get(message.chat_id, 0) + 1
    return reminders, welcomes, partner, chats
