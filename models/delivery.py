"""The durable outbox: every message to Telegram is a row before it is a request."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # Telegram refused it for good (bad request), or retries ran out
    UNREACHABLE = "unreachable"  # the chat blocked the bot (403)
    CANCELLED = "cancelled"


class Priority(IntEnum):
    """Lower goes first: a reminder 10 minutes before a start overtakes a broadcast."""

    CRITICAL = 0
    NORMAL = 5
    BULK = 9


class OutboxMessage(Model):
    # Unique per message: enqueueing the same key twice sends once.
    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=160, unique=True)
    chat_id = fields.BigIntField()
    method = fields.CharField(max_length=32, default="sendMessage")
    payload: dict[str, Any] = fields.JSONField()
    priority = fields.SmallIntField(default=Priority.NORMAL)
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    not_before = fields.FloatField()
    created_at = fields.FloatField()
    sent_at = fields.FloatField(null=True)
    message_id = fields.BigIntField(null=True)
    lead_id = fields.BigIntField(null=True, db_index=True)
    last_error = fields.TextField(null=True)
    # The broadcast this message belongs to: its progress counts by this, not by key.
    broadcast_id = fields.BigIntField(null=True)

    class Meta:
        table = "outbox"
        # created_at: the retention job finds old finished rows without a full scan.
        indexes = (
            ("status", "priority", "not_before"),
            ("broadcast_id", "status"),
            ("created_at",),
        )


class TelegramChat(Model):
    # What we know about a chat's reachability (a 403 means the user blocked the bot).
    id = fields.BigIntField(primary_key=True)
    chat_id = fields.BigIntField(unique=True)
    unreachable_at = fields.FloatField(null=True)
    unreachable_reason = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "telegram_chat"
