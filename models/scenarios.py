"""Stored scenario runs: where each lead is in each scenario, and when it is next due."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.leads import LeadEntry


class RunStatus(StrEnum):
    WAITING = "waiting"  # due at `due_at` (a delay, or a condition checked again then)
    RUNNING = "running"  # claimed by the engine right now
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class ScenarioRun(Model):
    # One lead's pass through one scenario. `step` is the next step to execute.
    id = fields.BigIntField(primary_key=True)
    scenario = fields.CharField(max_length=64)
    lead: fields.ForeignKeyRelation[LeadEntry] = fields.ForeignKeyField(
        "models.LeadEntry", related_name="scenario_runs", on_delete=fields.CASCADE
    )
    lead_id: int
    # Distinguishes several runs of one scenario for one lead (e.g. per webinar).
    subject = fields.CharField(max_length=64, default="")
    status = fields.CharEnumField(RunStatus, max_length=16, default=RunStatus.WAITING)
    step = fields.IntField(default=0)
    due_at = fields.FloatField(null=True)
    # When the current wait began (for `wait_until` time-outs).
    waiting_since = fields.FloatField(null=True)
    # `round`: set when the run is begun again from its first step (a rescheduled
    # webinar's reminders); part of its messages' keys, so a new round's messages are new.
    context: dict[str, Any] = fields.JSONField(default=dict)
    attempts = fields.IntField(default=0)
    started_at = fields.FloatField()
    updated_at = fields.FloatField()
    finished_at = fields.FloatField(null=True)
    last_error: str | None = fields.TextField(null=True)

    class Meta:
        table = "scenario_run"
        unique_together = (("scenario", "lead", "subject"),)
        indexes = (("status", "due_at"),)
