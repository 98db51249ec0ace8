"""`lead_entry`: the canonical lead (internal only); its id is the canonical `lead_id`."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.users import User


# Column widths; contact normalisation (core/contact.py) refuses or drops what would not
# fit, so no value from outside ever reaches the database too long.
NAME_LENGTH = 200
PHONE_LENGTH = 20  # E.164: at most 15 digits and the +
EMAIL_LENGTH = 254  # RFC 5321: 256 octets of path, less the angle brackets
SOURCE_LENGTH = 64
REF_LENGTH = 64
TZ_LENGTH = 64
WEBINAR_ID_LENGTH = 64
LOCALE_LENGTH = 8


class CrmStatus(StrEnum):
    """Where a partner stands with a lead; set by hand in the lead card."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    APPLIED = "applied"
    PARTNER = "partner"
    REJECTED = "rejected"


class LeadEntry(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=NAME_LENGTH, default="")
    # E.164; unique so that two concurrent submissions cannot make two leads.
    phone = fields.CharField(max_length=PHONE_LENGTH, unique=True, null=True)
    email = fields.CharField(max_length=EMAIL_LENGTH, unique=True, null=True)
    # The seed's basic metrics.
    lead_source = fields.CharField(max_length=SOURCE_LENGTH)
    first_touch_at = fields.BigIntField()
    lead_created_at = fields.BigIntField()
    lead_created_via = fields.CharField(max_length=32, default="core_ingest")
    # First-touch attribution: set once, never overwritten by a later touch.
    ref = fields.CharField(max_length=REF_LENGTH, null=True)
    partner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="leads", null=True, on_delete=fields.SET_NULL
    )
    partner_id: int | None
    utm: dict[str, Any] = fields.JSONField(default=dict)
    tz = fields.CharField(max_length=TZ_LENGTH, null=True)
    locale = fields.CharField(max_length=LOCALE_LENGTH, null=True)
    consent_at = fields.BigIntField(null=True)
    # Bound when the lead opens the bot through a personal deep link.
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="lead_entries", null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    chat_id = fields.BigIntField(null=True)
    # The partner's own CRM status of this lead (`/leads`).
    crm_status = fields.CharEnumField(CrmStatus, max_length=16, default=CrmStatus.NEW)
    updated_at = fields.FloatField()

    touches: fields.ReverseRelation[LeadTouch]

    class Meta:
        table = "lead_entry"


class LeadTouch(Model):
    # One contact of a person with the funnel: a form, a webhook call, a bot referral.
    # What the person typed stays here: a touch that matched an existing lead proves
    # nothing about that lead (anyone can type a phone), so it changes nothing on it
    # until its link is proven (docs/security.md, "Identity and binding").

    id = fields.BigIntField(primary_key=True)
    lead: fields.ForeignKeyRelation[LeadEntry] = fields.ForeignKeyField(
        "models.LeadEntry", related_name="touches", on_delete=fields.CASCADE
    )
    lead_id: int
    # None: this touch created its lead. Otherwise what it matched the lead by
    # ("phone", "email", "user_id"): its link binds only once the person proves it.
    matched_by = fields.CharField(max_length=16, null=True)
    name = fields.CharField(max_length=NAME_LENGTH, default="")
    phone = fields.CharField(max_length=PHONE_LENGTH, null=True)
    email = fields.CharField(max_length=EMAIL_LENGTH, null=True)
    locale = fields.CharField(max_length=LOCALE_LENGTH, null=True)
    source = fields.CharField(max_length=SOURCE_LENGTH)
    ref = fields.CharField(max_length=REF_LENGTH, null=True)
    utm: dict[str, Any] = fields.JSONField(default=dict)
    tz = fields.CharField(max_length=TZ_LENGTH, null=True)
    webinar_id = fields.CharField(max_length=WEBINAR_ID_LENGTH, null=True)
    # The personal deep-link payload handed out after this touch (`/start <token>`).
    # `~<id>` once pruned: a link long expired (older than RETENTION and START_TOKEN_TTL);
    # `~` is not in a token's alphabet, so it matches no link anyone can send.
    start_token = fields.CharField(max_length=64, unique=True)
    at = fields.BigIntField()
    # The Telegram account that opened this (matched) touch's link and was asked to
    # prove the lead's phone: a contact it shares next answers that question.
    claimed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="claimed_touches", null=True, on_delete=fields.SET_NULL
    )
    claimed_by_id: int | None
    claimed_at = fields.FloatField(null=True)

    class Meta:
        table = "lead_touch"
        indexes = (("at",),)  # retention finds old touches by it


class LeadNote(Model):
    # A partner's note on a lead, shown in the lead card newest first.

    id = fields.BigIntField(primary_key=True)
    lead: fields.ForeignKeyRelation[LeadEntry] = fields.ForeignKeyField(
        "models.LeadEntry", related_name="notes", on_delete=fields.CASCADE
    )
    lead_id: int
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="lead_notes", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    text = fields.TextField()
    at = fields.FloatField()

    class Meta:
        table = "lead_note"
