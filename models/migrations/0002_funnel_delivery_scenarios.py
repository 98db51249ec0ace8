from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.delivery import OutboxStatus, Priority
from models.scenarios import RunStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name="OutboxMessage",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("key", fields.CharField(unique=True, max_length=160)),
                ("chat_id", fields.BigIntField()),
                ("method", fields.CharField(default="sendMessage", max_length=32)),
                (
                    "payload",
                    fields.JSONField(
                        encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("priority", fields.SmallIntField(default=Priority.NORMAL)),
                (
                    "status",
                    fields.CharEnumField(
                        default=OutboxStatus.PENDING,
                        description="PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed\nUNREACHABLE: unreachable\nCANCELLED: cancelled",
                        enum_type=OutboxStatus,
                        max_length=16,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                ("not_before", fields.FloatField()),
                ("created_at", fields.FloatField()),
                ("sent_at", fields.FloatField(null=True)),
                ("message_id", fields.BigIntField(null=True)),
                ("lead_id", fields.BigIntField(null=True, db_index=True)),
                ("last_error", fields.TextField(null=True, unique=False)),
            ],
            options={
                "table": "outbox",
                "app": "models",
                "indexes": [Index(fields=["status", "priority", "not_before"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ScenarioRun",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("scenario", fields.CharField(max_length=64)),
                (
                    "lead",
                    fields.ForeignKeyField(
                        "models.LeadEntry",
                        source_field="lead_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="scenario_runs",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("subject", fields.CharField(default="", max_length=64)),
                (
                    "status",
                    fields.CharEnumField(
                        default=RunStatus.WAITING,
                        description="WAITING: waiting\nRUNNING: running\nDONE: done\nCANCELLED: cancelled\nFAILED: failed",
                        enum_type=RunStatus,
                        max_length=16,
                    ),
                ),
                ("step", fields.IntField(default=0)),
                ("due_at", fields.FloatField(null=True)),
                ("waiting_since", fields.FloatField(null=True)),
                (
                    "context",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                ("started_at", fields.FloatField()),
                ("updated_at", fields.FloatField()),
                ("finished_at", fields.FloatField(null=True)),
                ("last_error", fields.TextField(null=True, unique=False)),
            ],
            options={
                "table": "scenario_run",
                "app": "models",
                "unique_together": (("scenario", "lead", "subject"),),
                "indexes": [Index(fields=["status", "due_at"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TelegramChat",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("chat_id", fields.BigIntField(unique=True)),
                ("unreachable_at", fields.FloatField(null=True)),
                ("unreachable_reason", fields.CharField(null=True, max_length=200)),
            ],
            options={"table": "telegram_chat", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.AddField(
            model_name="User",
            name="locale",
            field=fields.CharField(null=True, max_length=8),
        ),
    ]
