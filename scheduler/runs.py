"""A run's position and every query of the `scenario_run` table.

A run is claimed by moving it from `waiting` to `running` in one UPDATE, so two claimers
never run it twice (a new run may be inserted `running`: claimed by its starter, which no
one else sees before it commits); its new position (step, due time, status) is written in
the same transaction as the steps' effects. The position helpers change the row in memory only:
`save` writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Min

from core.bulk import insert_rows
from core.retry import RetryPolicy
from models import LeadEntry, RunStatus, ScenarioRun

# What `save` writes: the position the steps moved the run to, and `attempts` back to 0
# (a step that commits ends a streak of failures).
POSITION = ("status", "step", "due_at", "waiting_since", "finished_at", "last_error")
SAVED = (*POSITION, "attempts", "updated_at")
# A run that keeps failing: 60 s, 2 min, 4 min … at most an hour apart; ten tries in all.
RETRY = RetryPolicy.backoff(base=30.0, cap=3600.0, attempts=10)


# ---- a run's position (in memory) ---------------------------------------------------------


def goto(run: ScenarioRun, step: int) -> None:
    run.step, run.waiting_since = step, None


def park(run: ScenarioRun, due_at: float, *, since: float | None = None) -> None:
    """The run waits until `due_at`; `since` is when this wait began (time-outs count from it)."""
    run.status, run.due_at = RunStatus.WAITING, due_at
    if since is not None:
        run.waiting_since = since


def finish(run: ScenarioRun, status: RunStatus, reason: str | None, now: float) -> None:
    run.status, run.due_at, run.last_error = status, None, reason
    run.finished_at = now


# ---- queries --------------------------------------------------------------------------------


async def create_many(
    db: BaseDBAsyncClient, starts: list[tuple[str, int, str]], now: float, *, claimed: bool
) -> list[ScenarioRun]:
    """The runs of many (scenario, lead id, subject) that are new, due now, in the order
    they were inserted (by lead, then scenario and subject); a start whose run exists adds
    nothing. One query for the runs the leads have, one INSERT, one query for the new rows.

    `claimed`: inserted `running`, as `claim_all` leaves a run, for the caller to take
    to its first wait in the same transaction (no other claimer can see them before)."""
    leads = sorted({lead_id for _, lead_id, _ in starts})
    existing = set(
        await ScenarioRun.filter(lead_id__in=leads)
        .using_db(db)
        .values_list("scenario", "lead_id", "subject")
    )
    new = sorted(set(starts) - existing, key=lambda s: (s[1], s[0], s[2]))
    if not new:
        return []
    status = RunStatus.RUNNING if claimed else RunStatus.WAITING
    rows = [
        {
            "scenario": scenario,
            "lead_id": lead_id,
            "subject": subject,
            "status": status,
            "due_at": now,
            "started_at": now,
            "updated_at": now,
        }
        for scenario, lead_id, subject in new
    ]
    # The unique (scenario, lead, subject) settles a race with a concurrent start: that
    # row is skipped here, and the run is the other starter's.
    await insert_rows(db, ScenarioRun, rows, returning_ids=False, ignore_conflicts=True)
    wanted = set(new)
    found = await (
        ScenarioRun.filter(
            lead_id__in=sorted({lead_id for _, lead_id, _ in new}), status=status, started_at=now
        )
        .using_db(db)
        .order_by("id")
    )
    return [run for run in found if (run.scenario, run.lead_id, run.subject) in wanted]


async def wake(lead_id: int, now: float) -> int:
    """Every waiting run of the lead due now; how many."""
    count = await ScenarioRun.filter(
        lead_id=lead_id, status=RunStatus.WAITING, due_at__gt=now
    ).update(due_at=now)
    return int(count)


async def wake_subject(scenario: str, subject: str, now: float) -> int:
    """Every waiting run of `scenario` about `subject` due now; how many."""
    count = await ScenarioRun.filter(
        scenario=scenario, subject=subject, status=RunStatus.WAITING, due_at__gt=now
    ).update(due_at=now)
    return int(count)


async def restart(scenario: str, subject: str, round_: str, now: float) -> int:
    """Runs of `scenario` about `subject` (waiting, running or done) begin again at step 0.

    On PostgreSQL a run another process holds is updated once its step commits (the
    row lock); on SQLite the transactions take turns. Either way the run's own save
    cannot overwrite the restart afterwards.
    """
    count = await ScenarioRun.filter(
        scenario=scenario,
        subject=subject,
        status__in=[RunStatus.WAITING, RunStatus.RUNNING, RunStatus.DONE],
    ).update(
        status=RunStatus.WAITING,
        step=0,
        due_at=now,
        waiting_since=None,
        started_at=now,
        finished_at=None,
        last_error=None,
        attempts=0,
        context={"round": round_},
        updated_at=now,
    )
    return int(count)


async def cancel(lead_id: int, scenario: str | None, reason: str, now: float) -> int:
    query = ScenarioRun.filter(lead_id=lead_id, status__in=[RunStatus.WAITING, RunStatus.RUNNING])
    if scenario is not None:
        query = query.filter(scenario=scenario)
    return int(
        await query.update(
            status=RunStatus.CANCELLED, finished_at=now, last_error=reason[:500], due_at=None
        )
    )


async def recover(now: float) -> None:
    """Runs a dead process had claimed are due again (their step did not commit)."""
    await ScenarioRun.filter(status=RunStatus.RUNNING).update(status=RunStatus.WAITING, due_at=now)


async def next_due() -> float | None:
    row = (
        await ScenarioRun.filter(status=RunStatus.WAITING, due_at__not_isnull=True)
        .annotate(first=Min("due_at"))
        .first()
        .values("first")
    )
    return None if not row else row["first"]


async def due_ids(now: float, limit: int) -> list[int]:
    """The waiting runs due at `now`, the earliest first."""
    return cast(
        "list[int]",
        await ScenarioRun.filter(status=RunStatus.WAITING, due_at__lte=now)
        .order_by("due_at", "id")
        .limit(limit)
        .values_list("id", flat=True),
    )


async def claim_all(db: BaseDBAsyncClient, run_ids: list[int], now: float) -> list[ScenarioRun]:
    """Claim the due runs among `run_ids`; raises `Taken` when another claimer has some."""
    due = ScenarioRun.filter(id__in=run_ids, status=RunStatus.WAITING, due_at__lte=now)
    runs = await due.using_db(db)
    claimed = await due.using_db(db).update(status=RunStatus.RUNNING)
    if claimed != len(runs):
        raise Taken
    return runs


async def claim(db: BaseDBAsyncClient, run_id: int, now: float) -> ScenarioRun | None:
    """Claim one run if it is due; None when it is not (or someone else has it)."""
    claimed = (
        await ScenarioRun.filter(id=run_id, status=RunStatus.WAITING, due_at__lte=now)
        .using_db(db)
        .update(status=RunStatus.RUNNING)
    )
    if not claimed:
        return None
    return await ScenarioRun.filter(id=run_id).using_db(db).get()


async def leads_of(db: BaseDBAsyncClient, runs: Iterable[ScenarioRun]) -> dict[int, LeadEntry]:
    """The leads of `runs`, by id (one query)."""
    lead_ids = {run.lead_id for run in runs}
    return {lead.id: lead for lead in await LeadEntry.filter(id__in=lead_ids).using_db(db)}


async def save(run: ScenarioRun, db: BaseDBAsyncClient, now: float) -> None:
    """Write the run's new position; a run no step parked or finished is due again now."""
    await save_many([run], db, now)


async def save_many(runs: Sequence[ScenarioRun], db: BaseDBAsyncClient, now: float) -> None:
    """`save` for many runs: one UPDATE statement, executed with each run's values."""
    if not runs:
        return
    for run in runs:
        if run.status == RunStatus.RUNNING:
            park(run, now)
        run.attempts, run.updated_at = 0, now
    postgres = db.capabilities.dialect == "postgres"
    marks = [f"${n}" if postgres else "?" for n in range(1, len(SAVED) + 2)]
    assignments = ",".join(
        f'"{column}"={mark}' for column, mark in zip(SAVED, marks[:-1], strict=True)
    )
    # Only the fixed column names above and placeholders: the values are always bound.
    sql = f'UPDATE "scenario_run" SET {assignments} WHERE "id"={marks[-1]}'  # noqa: S608
    rows = [[_bound(getattr(run, field)) for field in SAVED] + [run.id] for run in runs]
    await db.execute_many(sql, rows)


def _bound(value: object) -> object:
    """A value as the driver binds it (the status as its plain text)."""
    return value.value if isinstance(value, RunStatus) else value


async def failed(run_id: int, exc: Exception, now: float) -> float | None:
    """Nothing of the failed advance was kept: due again later, or failed for good at
    last. Returns the new due time (None: given up, or the run is gone)."""
    run = await ScenarioRun.get_or_none(id=run_id)
    if run is None:
        return None
    attempts = run.attempts + 1
    delay = RETRY.delay_after(attempts)
    due = None if delay is None else now + delay
    await ScenarioRun.filter(id=run_id).update(
        status=RunStatus.FAILED if due is None else RunStatus.WAITING,
        due_at=due,
        attempts=attempts,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        updated_at=now,
    )
    return due


class Taken(Exception):
    """Another claimer took some of a group's runs: advance them one by one."""
