"""Runs stored scenarios step by step; a restart or `kill -9` loses and repeats nothing.

Each step is committed in one transaction together with its effect: the outbox row of a
`Send` (keyed by run and step, so it is queued once), the event of an `Emit`, the due time
of a wait. A run is claimed by moving it from `waiting` to `running` in one UPDATE, so two
claimers never run it twice; a run left `running` by a dead process is due again at start.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Min

from bot.outbox import Button, OutgoingMessage, enqueue
from core.clock import Clock
from core.events import CATALOGUE
from core.hub import Publisher, SignalHub
from core.settings import Settings, parse_duration
from models import LeadEntry, RunStatus, ScenarioRun, User
from scheduler.scenario import (
    Branch,
    Condition,
    Emit,
    Scenario,
    Send,
    Stop,
    Wait,
    WaitUntil,
    wait_seconds,
)

log = logging.getLogger(__name__)

Translate = Callable[[str, str], str]  # (locale, msgid) -> text
MAX_STEPS_PER_ADVANCE = 100
GROUP = (
    50  # due runs advanced in one transaction  # a Branch loop without a wait must not spin forever
)


@dataclass
class RunContext:
    """What a condition may look at. Database reads go through `tx.connection`: the run's
    transaction holds SQLite's only connection while it runs."""

    run: ScenarioRun
    lead: LeadEntry
    clock: Clock
    settings: Settings
    tx: Publisher


class ScenarioEngine:
    def __init__(
        self,
        scenarios: Mapping[str, Scenario],
        *,
        conditions: Mapping[str, Condition],
        hub: SignalHub,
        clock: Clock,
        settings: Settings,
        translate: Translate,
        on_schedule: Callable[[float], None] = lambda due_at: None,
    ) -> None:
        self.scenarios = dict(scenarios)
        self._conditions = conditions
        self._hub = hub
        self._clock = clock
        self._settings = settings
        self._translate = translate
        # Told of every new due time, so the waker can fire on time instead of polling.
        self.on_schedule = on_schedule

    # ---- starting, waking, cancelling -------------------------------------------------

    async def start_run(self, scenario: str, lead_id: int, *, subject: str = "") -> bool:
        """Start `scenario` for a lead, once: False if that run already exists."""
        if scenario not in self.scenarios:
            raise KeyError(f"no scenario {scenario!r}")
        if await ScenarioRun.filter(scenario=scenario, lead_id=lead_id, subject=subject).exists():
            return False
        now = self._clock.now()
        run = ScenarioRun(
            scenario=scenario,
            lead_id=lead_id,
            subject=subject,
            due_at=now,
            started_at=now,
            updated_at=now,
        )
        # The unique (scenario, lead, subject) settles a race with a concurrent start.
        await ScenarioRun.bulk_create([run], ignore_conflicts=True)
        self.on_schedule(now)
        return True

    async def wake(self, lead_id: int) -> int:
        """Something changed for this lead (e.g. it bound a chat): re-check its waits now."""
        now = self._clock.now()
        count = await ScenarioRun.filter(
            lead_id=lead_id, status=RunStatus.WAITING, due_at__gt=now
        ).update(due_at=now)
        if count:
            self.on_schedule(now)
        return int(count)

    async def cancel(self, lead_id: int, scenario: str | None = None, *, reason: str) -> int:
        query = ScenarioRun.filter(
            lead_id=lead_id, status__in=[RunStatus.WAITING, RunStatus.RUNNING]
        )
        if scenario is not None:
            query = query.filter(scenario=scenario)
        return int(
            await query.update(
                status=RunStatus.CANCELLED,
                finished_at=self._clock.now(),
                last_error=reason[:500],
                due_at=None,
            )
        )

    async def recover(self) -> None:
        """At start: runs a dead process had claimed are due again (their step did not commit)."""
        await ScenarioRun.filter(status=RunStatus.RUNNING).update(
            status=RunStatus.WAITING, due_at=self._clock.now()
        )

    async def next_due(self) -> float | None:
        row = (
            await ScenarioRun.filter(status=RunStatus.WAITING, due_at__not_isnull=True)
            .annotate(first=Min("due_at"))
            .first()
            .values("first")
        )
        return None if not row else row["first"]

    # ---- running ------------------------------------------------------------------------

    async def tick(self, limit: int = 500) -> int:
        """Run every due step; returns how many runs advanced. The waker calls this."""
        total = 0
        while True:
            due = cast(
                "list[int]",
                await ScenarioRun.filter(status=RunStatus.WAITING, due_at__lte=self._clock.now())
                .order_by("due_at", "id")
                .limit(limit)
                .values_list("id", flat=True),
            )
            for start in range(0, len(due), GROUP):
                total += await self._advance_group(due[start : start + GROUP])
            if len(due) < limit:
                return total

    async def _advance_group(self, run_ids: list[int]) -> int:
        """Advance several due runs in one transaction (one commit, fewer statements);
        if any of them fails, the group is rolled back and each goes alone, so only the
        failing run is affected."""
        if len(run_ids) == 1:
            return await self.advance(run_ids[0])
        now = self._clock.now()
        try:
            async with self._hub.transaction() as tx:
                db = tx.connection
                due = ScenarioRun.filter(id__in=run_ids, status=RunStatus.WAITING, due_at__lte=now)
                runs = await due.using_db(db)
                claimed = await due.using_db(db).update(status=RunStatus.RUNNING)
                if claimed != len(runs):  # another process took some: sort it out one by one
                    raise _GoAlone
                lead_ids = {run.lead_id for run in runs}
                leads = {
                    lead.id: lead for lead in await LeadEntry.filter(id__in=lead_ids).using_db(db)
                }
                for run in runs:
                    ctx = RunContext(run, leads[run.lead_id], self._clock, self._settings, tx)
                    await self._run_steps(ctx)
                    await self._save(run, db)
        except Exception as exc:
            if not isinstance(exc, _GoAlone):
                log.info("scenario group of %d rolled back (%s); one at a time", len(run_ids), exc)
            return sum([await self.advance(run_id) for run_id in run_ids])
        for run in runs:
            if run.status == RunStatus.WAITING and run.due_at is not None:
                self.on_schedule(run.due_at)
        return len(runs)

    async def advance(self, run_id: int) -> int:
        """Claim a due run and execute its steps up to the next wait, in one transaction.

        The claim, every step's effect and the new position commit together: a crash
        anywhere leaves the run as it was, due again, with nothing sent twice.
        """
        now = self._clock.now()
        try:
            async with self._hub.transaction() as tx:
                db = tx.connection
                claimed = (
                    await ScenarioRun.filter(id=run_id, status=RunStatus.WAITING, due_at__lte=now)
                    .using_db(db)
                    .update(status=RunStatus.RUNNING)
                )
                if not claimed:
                    return 0
                run = await ScenarioRun.filter(id=run_id).using_db(db).get()
                lead = await LeadEntry.filter(id=run.lead_id).using_db(db).get()
                await self._run_steps(RunContext(run, lead, self._clock, self._settings, tx))
                await self._save(run, db)
        except Exception as exc:  # one broken run must not stop the others
            log.exception("scenario run #%s failed", run_id)
            await self._failed(run_id, exc)
            return 1
        if run.status == RunStatus.WAITING and run.due_at is not None:
            self.on_schedule(run.due_at)
        return 1

    async def _run_steps(self, ctx: RunContext) -> None:
        run = ctx.run
        scenario = self.scenarios.get(run.scenario)
        if scenario is None:
            self._finish(run, RunStatus.FAILED, "scenario no longer defined")
            return
        for _ in range(MAX_STEPS_PER_ADVANCE):
            if run.step >= len(scenario.steps):
                self._finish(run, RunStatus.DONE, None)
                return
            if not await self._step(scenario, scenario.steps[run.step], ctx):
                return  # the run now waits (or ended)
        self._park(run, self._clock.now() + 60)  # a loop without waits: breathe

    async def _step(self, scenario: Scenario, step: Any, ctx: RunContext) -> bool:
        """Execute one step; True to go on with the next, False when the run now waits."""
        run, now = ctx.run, self._clock.now()
        if isinstance(step, Send):
            if ctx.lead.chat_id is None:
                limit = parse_duration(scenario.chat_wait)
                since = run.waiting_since or now
                if now - since >= limit:
                    self._finish(run, RunStatus.CANCELLED, "the lead never opened the bot")
                    return False
                # `wake(lead_id)` at binding makes it due at once; this is the time-out.
                self._park(run, since + limit, since=since)
                return False
            await enqueue(
                ctx.tx.connection,
                self._clock,
                key=f"scenario:{run.id}:{run.step}",
                message=await self._render(step, ctx),
                priority=step.priority,
                lead_id=ctx.lead.id,
            )
            self._goto(run, run.step + 1)
            return True
        if isinstance(step, Wait):
            seconds = wait_seconds(step, self._settings)
            since = run.waiting_since if run.waiting_since is not None else now
            if now < since + seconds:
                self._park(run, since + seconds, since=since)
                return False
            self._goto(run, run.step + 1)
            return True
        if isinstance(step, WaitUntil):
            if await self._conditions[step.condition](ctx):
                self._goto(run, run.step + 1)
                return True
            since = run.waiting_since if run.waiting_since is not None else now
            timeout = None if step.timeout is None else parse_duration(step.timeout)
            if timeout is not None and now - since >= timeout:
                self._goto(run, scenario.index_of(step.on_timeout))
                return True
            due = now + parse_duration(step.check_every)
            if timeout is not None:
                due = min(due, since + timeout)
            self._park(run, due, since=since)
            return False
        if isinstance(step, Branch):
            taken = await self._conditions[step.condition](ctx)
            target = step.then if taken else step.otherwise
            self._goto(run, run.step + 1 if target is None else scenario.index_of(target))
            return True
        if isinstance(step, Emit):
            await ctx.tx.publish(self._event(step.event, run, ctx.lead))
            self._goto(run, run.step + 1)
            return True
        if isinstance(step, Stop):
            self._finish(run, RunStatus.DONE, None)
            return False
        raise TypeError(f"unknown step {step!r}")

    # ---- helpers ------------------------------------------------------------------------

    async def _render(self, step: Send, ctx: RunContext) -> OutgoingMessage:
        locale = await self.locale_for(ctx.lead, ctx.tx.connection)
        params = {
            "name": html.escape(ctx.lead.name or ""),
            "public_url": self._settings.base_url,
        }
        text = self._translate(locale, step.text).format_map(_Missing(params))
        buttons = tuple(
            tuple(
                Button(
                    text=self._translate(locale, b.text),
                    url=b.url.format_map(_Missing(params)) if b.url else None,
                    callback=b.callback,
                )
                for b in row
            )
            for row in step.buttons
        )
        assert ctx.lead.chat_id is not None
        return OutgoingMessage(chat_id=ctx.lead.chat_id, text=text, buttons=buttons)

    async def locale_for(self, lead: LeadEntry, db: BaseDBAsyncClient | None = None) -> str:
        """The user's choice, else Telegram's language, else the lead's, else the default."""
        user = None
        if lead.user_id is not None:
            user = await User.filter(id=lead.user_id).using_db(db).first()
        for candidate in (
            user and user.locale,
            user and (user.language_code or "")[:2],
            lead.locale,
        ):
            if candidate in ("ru", "en"):
                return str(candidate)
        return self._settings.default_locale

    def _event(self, name: str, run: ScenarioRun, lead: LeadEntry) -> Any:
        payload_type = CATALOGUE[name].payload
        data = {"timestamp": int(self._clock.now()), "lead_id": lead.id, "scenario": run.scenario}
        if run.subject:
            data["webinar_id"] = run.subject
        return payload_type.from_payload(data)

    def _goto(self, run: ScenarioRun, step: int) -> None:
        run.step, run.waiting_since = step, None

    def _park(self, run: ScenarioRun, due_at: float, *, since: float | None = None) -> None:
        run.status, run.due_at = RunStatus.WAITING, due_at
        if since is not None:
            run.waiting_since = since

    def _finish(self, run: ScenarioRun, status: RunStatus, reason: str | None) -> None:
        run.status, run.due_at, run.last_error = status, None, reason
        run.finished_at = self._clock.now()

    async def _save(self, run: ScenarioRun, db: BaseDBAsyncClient) -> None:
        if run.status == RunStatus.RUNNING:  # no step parked or finished it
            self._park(run, self._clock.now())
        await (
            ScenarioRun.filter(id=run.id)
            .using_db(db)
            .update(
                status=run.status,
                step=run.step,
                due_at=run.due_at,
                waiting_since=run.waiting_since,
                finished_at=run.finished_at,
                last_error=run.last_error,
                attempts=0,
                updated_at=self._clock.now(),
            )
        )

    async def _failed(self, run_id: int, exc: Exception) -> None:
        """Nothing of the failed advance was kept; try again later, and give up at last."""
        run = await ScenarioRun.get_or_none(id=run_id)
        if run is None:
            return
        attempts = run.attempts + 1
        final = attempts >= 10
        due = None if final else self._clock.now() + min(3600.0, 30.0 * 2 ** min(attempts, 7))
        await ScenarioRun.filter(id=run_id).update(
            status=RunStatus.FAILED if final else RunStatus.WAITING,
            due_at=due,
            attempts=attempts,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            updated_at=self._clock.now(),
        )
        if due is not None:
            self.on_schedule(due)


class _GoAlone(Exception):
    """Leave the group transaction and advance its runs one by one."""


class _Missing(dict[str, str]):
    """`str.format_map` that leaves unknown `{placeholders}` as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
