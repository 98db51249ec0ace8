"""What each kind of step does: one small function per kind, found through `STEPS`.

A step function moves the run (`runs.goto`, `runs.park`, `runs.finish`) and returns True
to go on with the next step, False when the run now waits or has ended. Its effects (the
outbox row of a `Send`, the event of an `Emit`) go through the run's transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.events import CATALOGUE, Event
from core.settings import parse_duration
from models import RunStatus
from scheduler import runs
from scheduler.messages import Messages
from scheduler.scenario import (
    At,
    Branch,
    Condition,
    Emit,
    Moment,
    RunContext,
    Scenario,
    Send,
    Step,
    Stop,
    Wait,
    WaitUntil,
    wait_seconds,
)


@dataclass(frozen=True)
class Env:
    """What steps need besides the run: the scenario, the conditions, the messages."""

    scenario: Scenario
    conditions: Mapping[str, Condition]
    messages: Messages
    moments: Mapping[str, Moment] = field(default_factory=dict)


async def send(step: Send, ctx: RunContext, env: Env) -> bool:
    run, now = ctx.run, ctx.clock.now()
    if ctx.lead.chat_id is None:
        limit = parse_duration(env.scenario.chat_wait)
        since = run.waiting_since or now
        if now - since >= limit:
            runs.finish(run, RunStatus.CANCELLED, "the lead never opened the bot", now)
            return False
        # `wake(lead_id)` at binding makes it due at once; this is the time-out.
        runs.park(run, since + limit, since=since)
        return False
    await env.messages.queue(step, ctx)
    runs.goto(run, run.step + 1)
    return True


async def wait(step: Wait, ctx: RunContext, env: Env) -> bool:
    run, now = ctx.run, ctx.clock.now()
    seconds = wait_seconds(step, ctx.settings)
    since = run.waiting_since if run.waiting_since is not None else now
    if now < since + seconds:
        runs.park(run, since + seconds, since=since)
        return False
    runs.goto(run, run.step + 1)
    return True


async def at(step: At, ctx: RunContext, env: Env) -> bool:
    run, now = ctx.run, ctx.clock.now()
    when = await env.moments[step.moment](ctx)
    if when is not None and when > now:
        runs.park(run, when)
        return False
    runs.goto(run, run.step + 1)
    return True


async def wait_until(step: WaitUntil, ctx: RunContext, env: Env) -> bool:
    run, now = ctx.run, ctx.clock.now()
    if await env.conditions[step.condition](ctx):
        runs.goto(run, run.step + 1)
        return True
    since = run.waiting_since if run.waiting_since is not None else now
    timeout = None if step.timeout is None else parse_duration(step.timeout)
    if timeout is not None and now - since >= timeout:
        runs.goto(run, env.scenario.index_of(step.on_timeout))
        return True
    due = now + parse_duration(step.check_every)
    if timeout is not None:
        due = min(due, since + timeout)
    runs.park(run, due, since=since)
    return False


async def branch(step: Branch, ctx: RunContext, env: Env) -> bool:
    taken = await env.conditions[step.condition](ctx)
    target = step.then if taken else step.otherwise
    runs.goto(ctx.run, ctx.run.step + 1 if target is None else env.scenario.index_of(target))
    return True


async def emit(step: Emit, ctx: RunContext, env: Env) -> bool:
    run = ctx.run
    data: dict[str, Any] = {
        "timestamp": int(ctx.clock.now()),
        "lead_id": ctx.lead.id,
        "scenario": run.scenario,
    }
    if run.subject:
        data["webinar_id"] = run.subject
    event: Event = CATALOGUE[step.event].payload.from_payload(data)
    await ctx.tx.publish(event)
    runs.goto(run, run.step + 1)
    return True


async def stop(step: Stop, ctx: RunContext, env: Env) -> bool:
    runs.finish(ctx.run, RunStatus.DONE, None, ctx.clock.now())
    return False


StepRunner = Callable[[Any, RunContext, Env], Awaitable[bool]]

STEPS: Mapping[type[Step], StepRunner] = {
    Send: send,
    Wait: wait,
    At: at,
    WaitUntil: wait_until,
    Branch: branch,
    Emit: emit,
    Stop: stop,
}


async def execute(step: Step, ctx: RunContext, env: Env) -> bool:
    """Execute one step; True to go on with the next, False when the run now waits."""
    runner = STEPS.get(type(step))
    if runner is None:
        raise TypeError(f"unknown step {step!r}")
    return await runner(step, ctx, env)
