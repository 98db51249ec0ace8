"""The persisted event log and each subscriber's delivery of each event."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class EventRecord(Model):
    # An event as published: stored before any subscriber sees it.

    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=64, db_index=True)
    payload: dict[str, Any] = fields.JSONField()
    lead_id = fields.BigIntField(null=True, db_index=True)
    webinar_id = fields.CharField(max_length=64, null=True)
    # The user an event is about (payload `user_id`): /users reads one person's history.
    user_id = fields.BigIntField(null=True)
    created_at = fields.FloatField()

    class Meta:
        table = "event_log"
        # A webinar's events of one kind (its classifications, its form submissions). Indexes,
        # not db_index: on SQLite, changing a column rebuilds its table (and the rebuild
        # loses the table's other indexes and constraints).
        indexes = (("name", "webinar_id"), ("user_id",), ("created_at",))


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # gave up after the last attempt; kept for the operator


class EventDelivery(Model):
    # One subscriber's work on one event: the unit the hub retries and recovers.

    id = fields.BigIntField(primary_key=True)
    event: fields.ForeignKeyRelation[EventRecord] = fields.ForeignKeyField(
        "models.EventRecord", related_name="deliveries", on_delete=fields.CASCADE
    )
    event_id: int
    subscriber = fields.CharField(max_length=128)
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.FloatField()
    last_error = fields.TextField(null=True)
    done_at = fields.FloatField(null=True)

    class Meta:
        table = "event_delivery"
        unique_together = (("event", "subscriber"),)
        indexes = (("status", "next_attempt_at"), ("done_at",))
