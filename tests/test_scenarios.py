"""The scenario engine: stored runs, waits, binding, restarts, validation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.clock import FakeClock
from core.hub import SignalHub
from core.settings import Settings
from handlers.scenarios import CONDITIONS, WELCOME
from models import LeadEntry, OutboxMessage, RunStatus, ScenarioRun
from scheduler.engine import ScenarioEngine
from scheduler.scenario import (
    Branch,
    ButtonSpec,
    Emit,
    RunContext,
    Scenario,
    ScenarioError,
    Send,
    Stop,
    Wait,
    WaitUntil,
    validate,
)


def translate(locale: str, msgid: str) -> str:
    return f"[{locale}] {msgid}"


@pytest.fixture
def make_engine(
    hub: SignalHub, clock: FakeClock, settings: Settings
) -> Callable[..., ScenarioEngine]:
    def make(*scenarios: Scenario, settings_: Settings = settings) -> ScenarioEngine:
        return ScenarioEngine(
            {s.name: s for s in scenarios or (WELCOME,)},
            conditions=CONDITIONS,
            hub=hub,
            clock=clock,
            settings=settings_,
            translate=translate,
        )

    return make


async def new_lead(clock: FakeClock, *, chat_id: int | None = None, name: str = "Анна") -> int:
    count = await LeadEntry.all().count()
    lead = await LeadEntry.create(
        name=name,
        phone=f"+7916{count:07d}",
        lead_source="web_form",
        first_touch_at=int(clock.now()),
        lead_created_at=int(clock.now()),
        chat_id=chat_id,
        updated_at=clock.now(),
    )
    return int(lead.id)


async def sent_texts(chat_id: int) -> list[str]:
    rows = await OutboxMessage.filter(chat_id=chat_id).order_by("id")
    return [r.payload["text"] for r in rows]


async def test_welcome_then_followup_after_ten_minutes(
    make_engine: Callable[..., ScenarioEngine], clock: FakeClock
) -> None:
    engine = make_engine()
    lead_id = await new_lead(clock, chat_id=500)
    assert await engine.start_run("welcome", lead_id)
    assert not await engine.start_run("welcome", lead_id)  # once per lead

    await engine.tick()
    texts = await sent_texts(500)
    assert len(texts) == 1
    assert texts[0].startswith("[ru] Hello, Анна!")

    clock.advance(599)
    await engine.tick()
    assert len(await sent_texts(500)) == 1
    clock.advance(1)
    await engine.tick()
    texts = await sent_texts(500)
    assert len(texts) == 2
    assert "while you wait" in texts[1]
    run = await ScenarioRun.get(lead_id=lead_id)
    assert run.status == RunStatus.DONE
    await engine.tick()
    assert len(await sent_texts(500)) == 2


async def test_messages_wait_for_the_binding_and_the_delay_counts_from_the_welcome(
    make_engine: Callable[..., ScenarioEngine], clock: FakeClock
) -> None:
    engine = make_engine()
    lead_id = await new_lead(clock)
    await engine.start_run("welcome", lead_id)
    await engine.tick()
    assert await OutboxMessage.all().count() == 0

    clock.advance(180)  # the lead opens the bot three minutes after the form
    await LeadEntry.filter(id=lead_id).update(chat_id=700)
    assert await engine.wake(lead_id) == 1
    await engine.tick()
    assert len(await sent_texts(700)) == 1

    clock.advance(420)  # ten minutes after the form, but only seven after the welcome
    await engine.tick()
    assert len(await sent_texts(700)) == 1
    clock.advance(180)
    await engine.tick()
    assert len(await sent_texts(700)) == 2


async def test_a_lead_who_never_opens_the_bot_is_let_go(
    make_engine: Callable[..., ScenarioEngine], clock: FakeClock
) -> None:
    engine = make_engine()
    lead_id = await new_lead(clock)
    await engine.start_run("welcome", lead_id)
    await engine.tick()
    clock.advance(7 * 86400)
    await engine.tick()
    run = await ScenarioRun.get(lead_id=lead_id)
    assert run.status == RunStatus.CANCELLED
    assert await OutboxMessage.all().count() == 0


async def test_a_restart_in_the_middle_of_the_delay_loses_and_repeats_nothing(
    make_engine: Callable[..., ScenarioEngine], clock: FakeClock
) -> None:
    first = make_engine()
    lead_id = await new_lead(clock, chat_id=800)
    await first.start_run("welcome", lead_id)
    await first.tick()
    clock.advance(300)

    # The process dies; a new one starts 20 minutes later (the follow-up is overdue).
    clock.advance(1200)
    second = make_engine()
    await second.recover()
    assert await second.next_due() is not None
    await second.tick()
    assert len(await sent_texts(800)) == 2
    await second.tick()
    assert len(await sent_texts(800)) == 2


async def test_killed_after_claiming_a_step_sends_it_once(
    make_engine: Callable[..., ScenarioEngine], clock: FakeClock
) -> None:
    engine = make_engine()
    lead_id = await new_lead(clock, chat_id=900)
    await engine.start_run("welcome", lead_id)
    # kill -9 right after the claim, before the step committed
    await ScenarioRun.filter(lead_id=lead_id).update(status=RunStatus.RUNNING)
    restarted = make_engine()
    await restarted.recover()
    await restarted.tick()
    assert len(await sent_texts(900)) == 1

    # kill -9 after the welcome was committed but while the run was still marked running
    await ScenarioRun.filter(lead_id=lead_id).update(status=RunStatus.RUNNING)
    again = make_engine()
    await again.recover()
    await again.tick()
    clock.advance(600)
    await again.tick()
    assert len(await sent_texts(900)) == 2


async def test_the_followup_delay_comes_from_configuration(
    make_engine: Callable[..., ScenarioEngine], clock: FakeClock, settings: Settings
) -> None:
    engine = make_engine(
        WELCOME, settings_=settings.model_copy(update={"welcome_followup_delay": "90s"})
    )
    lead_id = await new_lead(clock, chat_id=1000)
    await engine.start_run("welcome", lead_id)
    await engine.tick()
    clock.advance(90)
    await engine.tick()
    assert len(await sent_texts(1000)) == 2


async def test_a_cancelled_run_sends_nothing_more(
    make_engine: Callable[..., ScenarioEngine], clock: FakeClock
) -> None:
    engine = make_engine()
    lead_id = await new_lead(clock, chat_id=1100)
    await engine.start_run("welcome", lead_id)
    await engine.tick()
    assert await engine.cancel(lead_id, "welcome", reason="unsubscribed") == 1
    clock.advance(3600)
    await engine.tick()
    assert len(await sent_texts(1100)) == 1
    assert (await ScenarioRun.get(lead_id=lead_id)).status == RunStatus.CANCELLED


async def test_user_values_are_escaped_in_messages(
    make_engine: Callable[..., ScenarioEngine], clock: FakeClock
) -> None:
    engine = make_engine()
    lead_id = await new_lead(clock, chat_id=1200, name="<b>Bob</b> & {public_url}")
    await engine.start_run("welcome", lead_id)
    await engine.tick()
    (text,) = await sent_texts(1200)
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; {public_url}" in text


async def test_branch_wait_until_emit_and_stop(
    make_engine: Callable[..., ScenarioEngine], clock: FakeClock, hub: SignalHub
) -> None:
    flow = Scenario(
        name="flow",
        steps=(
            WaitUntil("lead_has_chat", timeout="1h", on_timeout="gave_up", check_every="1m"),
            Branch("lead_has_chat", then="hello", otherwise="gave_up"),
            Send("unreachable", id="never"),
            Send("hello", id="hello"),
            Emit("scenario_start"),
            Stop(),
            Send("gave up", id="gave_up"),
        ),
    )
    engine = make_engine(flow)
    patient = await new_lead(clock)
    absent = await new_lead(clock)
    never = await new_lead(clock)
    for lead_id in (patient, absent, never):
        await engine.start_run("flow", lead_id)
    await engine.tick()
    clock.advance(120)
    await LeadEntry.filter(id=patient).update(chat_id=1300)
    await engine.tick()  # the minute check finds the chat
    assert await sent_texts(1300) == ["[ru] hello"]
    clock.advance(3600)
    await LeadEntry.filter(id=absent).update(chat_id=1400)  # too late: timed out first?
    await engine.tick()
    # The time-out was due before the chat appeared, but the check at the due time sees
    # the chat: a condition that holds wins over a time-out reached at the same moment.
    assert await sent_texts(1400) == ["[ru] hello"]
    # The lead that never got a chat timed out and went to `gave_up` (whose Send waits).
    run = await ScenarioRun.get(lead_id=never)
    assert run.step == flow.index_of("gave_up")
    assert run.status == RunStatus.WAITING
    # `scenario_start` was emitted once per lead that passed the Emit step.
    assert await hub_events("scenario_start") == [patient, absent]


async def hub_events(name: str) -> list[int]:
    from models import EventRecord

    rows = await EventRecord.filter(name=name).order_by("id")
    return [r.payload["lead_id"] for r in rows]


def test_definitions_are_validated_at_start(settings: Settings) -> None:
    def check(*steps: object, has: Callable[[str], bool] = lambda m: True) -> None:
        validate(
            [Scenario("s", steps=steps)],  # type: ignore[arg-type]
            conditions=CONDITIONS,
            settings=settings,
            messages=has,
        )

    check(Send("hi"), Wait("10m"), Stop())
    with pytest.raises(ScenarioError, match="missing from locales"):
        check(Send("hi", buttons=((ButtonSpec("press"),),)), has=lambda m: m == "hi")
    with pytest.raises(ScenarioError, match="unknown condition"):
        check(WaitUntil("moon_is_full"))
    with pytest.raises(ScenarioError, match="no step with id 'x'"):
        check(Branch("lead_has_chat", then="x"))
    with pytest.raises(ScenarioError, match="duration"):
        check(Wait("ten minutes"))
    with pytest.raises(ScenarioError, match="not in the catalogue"):
        check(Emit("lead_made"))
    with pytest.raises(ScenarioError, match="no setting"):
        check(Wait("1m", setting="no_such_delay"))
    with pytest.raises(ScenarioError, match="no steps"):
        check()


def test_the_shipped_scenarios_are_valid(settings: Settings) -> None:
    from core.texts import Texts
    from handlers.scenarios import MOMENTS, SCENARIOS
    from locales import load_catalogues
    from scheduler.scenario import At

    texts = Texts(load_catalogues(), "ru")
    validate(
        SCENARIOS, conditions=CONDITIONS, settings=settings, messages=texts.has, moments=MOMENTS
    )
    unknown = Scenario("x", steps=(At("no_such_moment"),))
    with pytest.raises(ScenarioError, match="unknown moment 'no_such_moment'"):
        validate([unknown], conditions=CONDITIONS, settings=settings, messages=texts.has)


async def test_one_failing_run_does_not_hold_back_the_others(
    hub: SignalHub, clock: FakeClock, settings: Settings
) -> None:
    async def explodes(ctx: RunContext) -> bool:
        if ctx.lead.name == "boom":
            raise RuntimeError("condition broke")
        return True

    flow = Scenario(name="flow", steps=(WaitUntil("explodes"), Send("hi")))
    engine = ScenarioEngine(
        {"flow": flow},
        conditions={"explodes": explodes},
        hub=hub,
        clock=clock,
        settings=settings,
        translate=translate,
    )
    leads = [
        await new_lead(clock, chat_id=2000 + i, name="boom" if i == 1 else f"L{i}")
        for i in range(3)
    ]
    for lead_id in leads:
        await engine.start_run("flow", lead_id)
    await engine.tick()  # all three are due together: one group, rolled back, then alone

    assert await sent_texts(2000) == ["[ru] hi"]
    assert await sent_texts(2001) == []
    assert await sent_texts(2002) == ["[ru] hi"]
    broken = await ScenarioRun.get(lead_id=leads[1])
    assert broken.status == RunStatus.WAITING
    assert broken.attempts == 1
    assert "condition broke" in (broken.last_error or "")
    assert broken.due_at is not None
    assert broken.due_at > clock.now()
