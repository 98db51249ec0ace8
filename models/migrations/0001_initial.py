from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.events import DeliveryStatus
from models.users import Role
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="EventRecord",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("name", fields.CharField(db_index=True, max_length=64)),
                (
                    "payload",
                    fields.JSONField(
                        encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("lead_id", fields.BigIntField(null=True, db_index=True)),
                ("webinar_id", fields.CharField(null=True, max_length=64)),
                ("created_at", fields.FloatField()),
            ],
            options={"table": "event_log", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="EventDelivery",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "event",
                    fields.ForeignKeyField(
                        "models.EventRecord",
                        source_field="event_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="deliveries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("subscriber", fields.CharField(max_length=128)),
                (
                    "status",
                    fields.CharEnumField(
                        default=DeliveryStatus.PENDING,
                        description="PENDING: pending\nRUNNING: running\nDONE: done\nFAILED: failed",
                        enum_type=DeliveryStatus,
                        max_length=16,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                ("next_attempt_at", fields.FloatField()),
                ("last_error", fields.TextField(null=True, unique=False)),
                ("done_at", fields.FloatField(null=True)),
            ],
            options={
                "table": "event_delivery",
                "app": "models",
                "unique_together": (("event", "subscriber"),),
                "indexes": [Index(fields=["status", "next_attempt_at"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("telegram_id", fields.BigIntField(null=True, unique=True)),
                (
                    "role",
                    fields.CharEnumField(
                        default=Role.CANDIDATE,
                        description="CANDIDATE: candidate\nPARTNER: partner\nLEADER: leader\nSPEAKER: speaker\nADMIN: admin",
                        enum_type=Role,
                        max_length=16,
                    ),
                ),
                ("first_name", fields.CharField(default="", max_length=128)),
                ("last_name", fields.CharField(default="", max_length=128)),
                ("username", fields.CharField(null=True, max_length=64)),
                ("language_code", fields.CharField(null=True, max_length=16)),
                ("chat_id", fields.BigIntField(null=True)),
                ("ref_code", fields.CharField(null=True, unique=True, max_length=32)),
                ("created_at", fields.FloatField()),
                ("updated_at", fields.FloatField()),
            ],
            options={"table": "app_user", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="LeadEntry",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("name", fields.CharField(default="", max_length=200)),
                ("phone", fields.CharField(null=True, unique=True, max_length=20)),
                ("email", fields.CharField(null=True, unique=True, max_length=254)),
                ("lead_source", fields.CharField(max_length=64)),
                ("first_touch_at", fields.BigIntField()),
                ("lead_created_at", fields.BigIntField()),
                ("lead_created_via", fields.CharField(default="core_ingest", max_length=32)),
                ("ref", fields.CharField(null=True, max_length=64)),
                (
                    "partner",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="partner_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="leads",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "utm",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("tz", fields.CharField(null=True, max_length=64)),
                ("locale", fields.CharField(null=True, max_length=8)),
                ("consent_at", fields.BigIntField(null=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="lead_entries",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("chat_id", fields.BigIntField(null=True)),
                ("updated_at", fields.FloatField()),
            ],
            options={"table": "lead_entry", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="LeadTouch",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "lead",
                    fields.ForeignKeyField(
                        "models.LeadEntry",
                        source_field="lead_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="touches",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("source", fields.CharField(max_length=64)),
                ("ref", fields.CharField(null=True, max_length=64)),
                (
                    "utm",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("tz", fields.CharField(null=True, max_length=64)),
                ("webinar_id", fields.CharField(null=True, max_length=64)),
                ("start_token", fields.CharField(unique=True, max_length=64)),
                ("at", fields.BigIntField()),
            ],
            options={"table": "lead_touch", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
