"""Runs stored scenarios step by step; a restart or `kill -9` loses and repeats nothing.

Each step is committed in one transaction together with its effect: the outbox row of a
`Send` (keyed by run and step, so it is queued once), the event of an `Emit`, the due time
of a wait. A run left `running` by a dead process is due again at start.

`ScenarioEngine` is the public face; the jobs live beside it: `runs` (a run's position and
every query of `scenario_run`: claiming, saving, retry bookkeeping), `steps` (one function
per step kind), `messages` (locale choice, rendering, the outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from tortoise.backends.base.client import BaseDBAsyncClient

from core import metrics
from core.clock import Clock
from core.hub import Publisher, SignalHub
from core.settings import Settings
from models import LeadEntry, RunStatus, ScenarioRun
from scheduler import runs, steps
from scheduler.messages import Messages, Params, Translate, no_params
from scheduler.scenario import Condition, Moment, Prepare, RunContext, Scenario

log = logging.getLogger(__name__)

MAX_STEPS_PER_ADVANCE = 100  # a Branch loop without a wait must not spin forever
GROUP = 50  # due runs advanced in one transaction


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
        moments: Mapping[str, Moment] | None = None,
        params: Params = no_params,
    ) -> None:
        self.scenarios = dict(scenarios)
        self._conditions = conditions
        self._moments = dict(moments or {})
        self._hub = hub
        self._clock = clock
        self._settings = settings
        self._messages = Messages(translate, settings, params)
        # Told of every new due time, so the waker can fire on time instead of polling.
        self.on_schedule = on_schedule

    # ---- starting, waking, cancelling -------------------------------------------------

    async def start_run(self, scenario: str, lead_id: int, *, subject: str = "") -> bool:
        """Start `scenario` for a lead, once: False if that run already exists."""
        return await self.start_runs([(scenario, lead_id, subject)]) == 1

    async def start_runs(self, starts: list[tuple[str, int, str]]) -> int:
        """Start many (scenario, lead id, subject), each once; how many runs are new.

        The new runs are inserted and taken to their first wait in one transaction (a
        burst of registrations: one INSERT, their webinars read once, one UPDATE), so
        the waker has nothing to do for them until that wait ends. The same starts
        again find their runs and add nothing. If a first step fails, the runs are
        created without it, due now: each is then advanced alone, with its retries."""
        unknown = {scenario for scenario, _, _ in starts} - set(self.scenarios)
        if unknown:
            raise KeyError(f"no scenario {sorted(unknown)!r}")
        now = self._clock.now()
        try:
            async with self._hub.transaction() as tx:
                created = await runs.create_many(tx.connection, starts, now, claimed=True)
                await self._advance_all(tx, created)
        except Exception as exc:
            log.info("starting %d runs with their first steps failed (%s)", len(starts), exc)
            async with self._hub.transaction() as tx:
                created = await runs.create_many(tx.connection, starts, now, claimed=False)
            if created:
                self.on_schedule(now)
            return len(created)
        for run in created:
            self._scheduled(run)
        return len(created)

    async def wake(self, lead_id: int) -> int:
        """Something changed for this lead (e.g. it bound a chat): re-check its waits now."""
        now = self._clock.now()
        count = await runs.wake(lead_id, now)
        if count:
            self.on_schedule(now)
        return count

    async def wake_subject(self, scenario: str, subject: str) -> int:
        """The data a scenario's runs about `subject` wait on changed: their waits are
        computed again now (an `At` moves with a moved start; a condition is re-checked)."""
        now = self._clock.now()
        count = await runs.wake_subject(scenario, subject, now)
        if count:
            self.on_schedule(now)
        return count

    async def restart(self, scenario: str, subject: str, round_: str) -> int:
        """Begin every run of `scenario` about `subject` again from its first step, as of
        now, as round `round_` (its messages are new ones; the same round again sends
        nothing twice). Runs cancelled for the lead's sake stay cancelled."""
        now = self._clock.now()
        count = await runs.restart(scenario, subject, round_, now)
        if count:
            self.on_schedule(now)
        return count

    async def cancel(self, lead_id: int, scenario: str | None = None, *, reason: str) -> int:
        return await runs.cancel(lead_id, scenario, reason, self._clock.now())

    async def recover(self) -> None:
        """At start: runs a dead process had claimed are due again (their step did not commit)."""
        await runs.recover(self._clock.now())

    async def next_due(self) -> float | None:
        return await runs.next_due()

    async def locale_for(self, lead: LeadEntry, db: BaseDBAsyncClient | None = None) -> str:
        """The user's choice, else Telegram's language, else the lead's, else the default."""
        return await self._messages.locale_for(lead, db)

    # ---- running ------------------------------------------------------------------------

    async def tick(self, limit: int = 500) -> int:
        """Run every due step; returns how many runs advanced. The waker calls this."""
        total = 0
        while True:
            due = await runs.due_ids(self._clock.now(), limit)
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
        try:
            async with self._hub.transaction() as tx:
                claimed = await runs.claim_all(tx.connection, run_ids, self._clock.now())
                await self._advance_all(tx, claimed)
        except Exception as exc:
            if not isinstance(exc, runs.Taken):
                log.info("scenario group of %d rolled back (%s); one at a time", len(run_ids), exc)
            return sum([await self.advance(run_id) for run_id in run_ids])
        for run in claimed:
            self._scheduled(run)
        return len(claimed)

    async def _advance_all(self, tx: Publisher, claimed: list[ScenarioRun]) -> None:
        """Run the steps of claimed runs up to their next wait, in `tx`: the leads and what
        the scenarios read (`Scenario.prepare`) are read once for them all, and their new
        positions written with one statement."""
        if not claimed:
            return
        leads = await runs.leads_of(tx.connection, claimed)
        contexts = [self._context(run, leads[run.lead_id], tx) for run in claimed]
        await self._prepare(contexts)
        for ctx in contexts:
            await self._run_steps(ctx)
        await runs.save_many(claimed, tx.connection, self._clock.now())

    async def _prepare(self, contexts: list[RunContext]) -> None:
        """Each scenario's `prepare`, once for all its runs in the group (scenarios that
        share one, as the webinar scenarios do, share the call)."""
        groups: dict[Prepare, list[RunContext]] = {}
        for ctx in contexts:
            scenario = self.scenarios.get(ctx.run.scenario)
            if scenario is not None and scenario.prepare is not None:
                groups.setdefault(scenario.prepare, []).append(ctx)
        for prepare, group in groups.items():
            await prepare(group)

    async def advance(self, run_id: int) -> int:
        """Claim a due run and execute its steps up to the next wait, in one transaction.

        The claim, every step's effect and the new position commit together: a crash
        anywhere leaves the run as it was, due again, with nothing sent twice.
        """
        try:
            async with self._hub.transaction() as tx:
                run = await runs.claim(tx.connection, run_id, self._clock.now())
                if run is None:
                    return 0
                lead = await LeadEntry.filter(id=run.lead_id).using_db(tx.connection).get()
                await self._run_steps(self._context(run, lead, tx))
                await runs.save(run, tx.connection, self._clock.now())
        except Exception as exc:  # one broken run must not stop the others
            log.exception("scenario run #%s failed", run_id)
            due = await runs.failed(run_id, exc, self._clock.now())
            if due is not None:
                self.on_schedule(due)
            return 1
        self._scheduled(run)
        return 1

    def _context(self, run: ScenarioRun, lead: LeadEntry, tx: Publisher) -> RunContext:
        return RunContext(run, lead, self._clock, self._settings, tx)

    async def _run_steps(self, ctx: RunContext) -> None:
        run = ctx.run
        if run.due_at is not None:
            late = max(0.0, self._clock.now() - run.due_at)
            metrics.SCENARIO_LATENESS.labels(run.scenario).observe(late)
        scenario = self.scenarios.get(run.scenario)
        if scenario is None:
            runs.finish(run, RunStatus.FAILED, "scenario no longer defined", self._clock.now())
            return
        env = steps.Env(scenario, self._conditions, self._messages, self._moments)
        for _ in range(MAX_STEPS_PER_ADVANCE):
            if run.step >= len(scenario.steps):
                runs.finish(run, RunStatus.DONE, None, self._clock.now())
                return
            if not await steps.execute(scenario.steps[run.step], ctx, env):
                return  # the run now waits (or ended)
        runs.park(run, self._clock.now() + 60)  # a loop without waits: breathe

    def _scheduled(self, run: ScenarioRun) -> None:
        if run.status == RunStatus.WAITING and run.due_at is not None:
            self.on_schedule(run.due_at)
