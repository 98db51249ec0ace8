"""Visits of partners' referral links (`/r/<code>`): the top of each partner's funnel."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class RefVisit(Model):
    # One click on a referral link, before any form: no personal data is kept.
    id = fields.BigIntField(primary_key=True)
    code = fields.CharField(max_length=64, db_index=True)
    partner_id = fields.BigIntField(null=True, db_index=True)
    utm: dict[str, Any] = fields.JSONField(default=dict)
    referrer = fields.CharField(max_length=500, null=True)
    at = fields.FloatField()

    class Meta:
        table = "ref_visit"
