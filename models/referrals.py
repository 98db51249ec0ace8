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
    # Who, as a key that means nothing outside this link (an HMAC of the browser's visitor
    # cookie and the code), and in which de-dup window (at // REF_VISIT_WINDOW): one row
    # per visitor, link and window, however often they click. NULL in rows from before.
    visitor = fields.CharField(max_length=32, null=True)
    period = fields.BigIntField(null=True)

    class Meta:
        table = "ref_visit"
        unique_together = (("code", "visitor", "period"),)
        indexes = (("at",),)  # retention finds old visits by it
