"""A campaign's registrations start their reminders in batches: each registrant's
reminders run begins once — also when every delivery is run a second time — already
waiting for its first reminder, and each reminder then goes once, at its time.

Three bursts, as a campaign brings them: early registrants (every reminder ahead), late
ones (24 h already past) and the latest (every reminder past: one catch-up at once). A
batch whose first steps fail still starts its runs: the waker then advances each alone."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import pytest

import main
from core.clock import FakeClock
from core.contact import RawContact, normalise
from core.hub import SignalHub
from core.ingest import core_ingest_event
from core.settings import Settings
from core.webinar_rules import WebinarDraft
from core.webinars import create_webinar
from handlers.webinar_scenarios import WEBINAR_REMINDERS
from models import (
    DeliveryStatus,
    EventDelivery,
    LeadEntry,
    OutboxMessage,
    RunStatus,
    ScenarioRun,
    Webinar,
)
from scheduler.engine import ScenarioEngine
from scheduler.scenario import RunContext, Scenario, Send, WaitUntil
from tests.test_registration_batches import run_everything

H = 3600
EARLY, LATE, LATEST = 150, 60, 20
WITHOUT_CHAT = 10  # early registrants who never open the bot: their runs wait all the same


def step(label: str) -> int:
    return WEBINAR_REMINDERS.index_of(label)


async def ingest(hub: SignalHub, clock: FakeClock, n: int, webinar_id: str) -> int:
    raw = RawContact(source="web_form", name=f"Лид {n}", phone=f"+7916{2000000 + n}")
    contact = replace(normalise(raw, region="RU", require_phone=True), webinar_id=webinar_id)
    return (await core_ingest_event(hub, clock, contact)).lead_id


async def burst(hub: SignalHub, clock: FakeClock, numbers: range, webinar: Webinar) -> list[int]:
    """Many registrations at one moment, stored before any consumer runs (a backlog)."""
    leads = await asyncio.gather(*(ingest(hub, clock, n, str(webinar.id)) for n in numbers))
    return list(leads)


async def handled_twice(settings: Settings, clock: FakeClock) -> None:
    """Every delivery, then every delivery again (a crash after the work, before it was
    marked done): the second time must add nothing."""
    await run_everything(settings, clock)
    before = await state()
    await EventDelivery.all().update(status=DeliveryStatus.PENDING, next_attempt_at=clock.now())
    await run_everything(settings, clock)
    assert await state() == before


async def state() -> tuple[list[tuple[object, ...]], list[str]]:
    runs = (
        await ScenarioRun.all()
        .order_by("id")
        .values_list("id", "scenario", "lead_id", "status", "step", "due_at", "waiting_since")
    )
    keys = await OutboxMessage.all().order_by("id").values_list("key", flat=True)
    return list(runs), [str(key) for key in keys]


async def reminders_of(leads: list[int]) -> dict[int, ScenarioRun]:
    runs = await ScenarioRun.filter(scenario=WEBINAR_REMINDERS.name, lead_id__in=leads)
    by_lead = {run.lead_id: run for run in runs}
    assert len(runs) == len(by_lead) == len(leads)  # exactly one run per registrant
    return by_lead


async def sent(leads: list[int]) -> dict[int, list[int]]:
    """The steps whose message each lead's reminders run queued, to the lead's chat."""
    runs = await reminders_of(leads)
    chats = dict(await LeadEntry.filter(id__in=leads).values_list("id", "chat_id"))
    got: dict[int, list[int]] = {lead: [] for lead in leads}
    for message in await OutboxMessage.filter(key__startswith="scenario:").order_by("id"):
        _, run_id, step_, *_ = message.key.split(":")
        for lead, run in runs.items():
            if run.id == int(run_id):
                assert message.chat_id == chats[lead]
                got[lead].append(int(step_))
    return got


async def test_a_burst_of_registrations_starts_each_reminders_run_once_waiting_for_its_time(
    settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    stored = SignalHub(clock, dispatch=False)  # the bursts are stored first
    _, _, engine = main.wire(settings, clock, stored)
    draft = WebinarDraft(
        title="Партнёрство",
        start="2027-02-01T19:00",
        tz="Europe/Moscow",
        duration="90",
        stream_type="obs",
        stream_url="https://cdn.example.com/live.m3u8",
    )
    webinar = await create_webinar(stored, clock, draft, actor=None, default_tz="Europe/Moscow")
    start = webinar.starts_at
    assert tuple(webinar.reminders) == (24 * H, H, 600)  # the default offsets

    async def at(when: float) -> None:
        clock.advance(when - clock.now())
        await engine.tick()

    # Early: every reminder ahead. Most have the bot open; some never do.
    early = await burst(stored, clock, range(EARLY), webinar)
    with_chat = early[WITHOUT_CHAT:]
    for lead in with_chat:
        await LeadEntry.filter(id=lead).update(chat_id=10_000 + lead)
    await handled_twice(settings, clock)
    for run in (await reminders_of(early)).values():
        # Taken to its first wait as it started: nothing left for the waker to do now.
        assert (run.status, run.step, run.due_at) == (
            RunStatus.WAITING,
            step("reminder_1"),
            start - 24 * H,
        )
        assert run.started_at == clock.now()
    assert await engine.tick() == 0
    assert await sent(early) == {lead: [] for lead in early}

    await at(start - 24 * H - 1)
    assert await sent(early) == {lead: [] for lead in early}
    await at(start - 24 * H)
    await at(start - 2 * H)

    # Late: 24 h is past; they wait for 1 h.
    late = await burst(stored, clock, range(EARLY, EARLY + LATE), webinar)
    for lead in late:
        await LeadEntry.filter(id=lead).update(chat_id=10_000 + lead)
    await handled_twice(settings, clock)
    for run in (await reminders_of(late)).values():
        assert (run.status, run.step, run.due_at) == (
            RunStatus.WAITING,
            step("reminder_2"),
            start - H,
        )
    assert await sent(late) == {lead: [] for lead in late}

    await at(start - H)
    await at(start - 600)

    # The latest: every reminder past; the catch-up goes as the run starts, once.
    clock.advance(5 * 60)
    latest = await burst(stored, clock, range(EARLY + LATE, EARLY + LATE + LATEST), webinar)
    for lead in latest:
        await LeadEntry.filter(id=lead).update(chat_id=10_000 + lead)
    await handled_twice(settings, clock)
    assert await sent(latest) == {lead: [step("catch_up")] for lead in latest}

    await at(start + 3 * H)  # the webinar never went live: nothing more
    reminders = [step("send_1"), step("send_2"), step("send_3")]
    assert await sent(early) == {lead: (reminders if lead in with_chat else []) for lead in early}
    assert await sent(late) == {lead: [step("send_2"), step("send_3")] for lead in late}
    assert await sent(latest) == {lead: [step("catch_up")] for lead in latest}
    # Every burst went through the batches, none fell back to one run at a time.
    assert "one at a time" not in caplog.text
    assert "first steps failed" not in caplog.text


async def test_a_start_whose_first_step_fails_leaves_the_run_to_the_waker_and_its_retries(
    hub: SignalHub, clock: FakeClock, settings: Settings
) -> None:
    async def explodes(ctx: RunContext) -> bool:
        if ctx.lead.name == "boom":
            raise RuntimeError("condition broke")
        return True

    engine = ScenarioEngine(
        {"flow": Scenario(name="flow", steps=(WaitUntil("explodes"), Send("hi")))},
        conditions={"explodes": explodes},
        hub=hub,
        clock=clock,
        settings=settings,
        translate=lambda locale, msgid: msgid,
    )
    leads = []
    for n, name in enumerate(("Анна", "boom", "Борис")):
        lead = await LeadEntry.create(
            name=name,
            phone=f"+7916{3000000 + n}",
            lead_source="web_form",
            first_touch_at=int(clock.now()),
            lead_created_at=int(clock.now()),
            chat_id=3000 + n,
            updated_at=clock.now(),
        )
        leads.append(lead.id)
    starts = [("flow", lead, "") for lead in leads]

    assert await engine.start_runs(starts) == 3  # the batch's steps failed: runs, no steps
    assert await OutboxMessage.all().count() == 0
    assert await engine.start_runs(starts) == 0
    assert await engine.tick() == 3  # each alone: two go on, the broken one waits to retry
    sent = await OutboxMessage.all().order_by("chat_id")
    assert [message.chat_id for message in sent] == [3000, 3002]
    broken = await ScenarioRun.get(lead_id=leads[1])
    assert (broken.status, broken.step, broken.attempts) == (RunStatus.WAITING, 0, 1)
    assert "condition broke" in (broken.last_error or "")
    assert broken.due_at is not None
    assert broken.due_at > clock.now()
