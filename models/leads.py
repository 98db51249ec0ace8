"""`lead_entry`: the canonical lead (internal only); its id is the canonical `lead_id`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.users import User


class LeadEntry(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=200, default="")
    # E.164; unique so that two concurrent submissions cannot make two leads.
    phone = fields.CharField(max_length=20, unique=True, null=True)
    email = fields.CharField(max_length=254, unique=True, null=True)
    # The seed's basic metrics.
    lead_source = fields.CharField(max_length=64)
    first_touch_at = fields.BigIntField()
    lead_created_at = fields.BigIntField()
    lead_created_via = fields.CharField(max_length=32, default="core_ingest")
    # First-touch attribution: set once, never overwritten by a later touch.
    ref = fields.CharField(max_length=64, null=True)
    partner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="leads", null=True, on_delete=fields.SET_NULL
    )
    partner_id: int | None
    utm: dict[str, Any] = fields.JSONField(default=dict)
    tz = fields.CharField(max_length=64, null=True)
    locale = fields.CharField(max_length=8, null=True)
    consent_at = fields.BigIntField(null=True)
    # Bound when the lead opens the bot through a personal deep link.
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="lead_entries", null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    chat_id = fields.BigIntField(null=True)
    updated_at = fields.FloatField()

    touches: fields.ReverseRelation[LeadTouch]

    class Meta:
        table = "lead_entry"


class LeadTouch(Model):
    # One contact of a person with the funnel: a form, a webhook call, a bot referral.

    id = fields.BigIntField(primary_key=True)
    lead: fields.ForeignKeyRelation[LeadEntry] = fields.ForeignKeyField(
        "models.LeadEntry", related_name="touches", on_delete=fields.CASCADE
    )
    lead_id: int
    source = fields.CharField(max_length=64)
    ref = fields.CharField(max_length=64, null=True)
    utm: dict[str, Any] = fields.JSONField(default=dict)
    tz = fields.CharField(max_length=64, null=True)
    webinar_id = fields.CharField(max_length=64, null=True)
    # The personal deep-link payload handed out after this touch (`/start <token>`).
    start_token = fields.CharField(max_length=64, unique=True)
    at = fields.BigIntField()

    class Meta:
        table = "lead_touch"
