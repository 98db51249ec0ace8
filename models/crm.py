"""Reviews and admin work that outlive one update: applications, profile changes,
what the bot waits for next from a user, and broadcasts."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.users import User


class Review(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Application(Model):
    # A candidate asking to become a partner (`/apply`, or the room's form); decided by a
    # user with `approve_users`.

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="applications", on_delete=fields.CASCADE
    )
    user_id: int
    status = fields.CharEnumField(Review, max_length=16, default=Review.PENDING)
    # Where the application came from: "bot" (/apply) or "room" (the webinar room's form).
    via = fields.CharField(max_length=16, default="bot")
    text = fields.TextField(default="")
    created_at = fields.FloatField()
    decided_at = fields.FloatField(null=True)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="decided_applications", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None

    class Meta:
        table = "application"


class ProfileChange(Model):
    # A change to what leads see of a partner (display name or photo), until reviewed by
    # a user with `approve_profiles`.

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="profile_changes", on_delete=fields.CASCADE
    )
    user_id: int
    field = fields.CharField(max_length=16)  # "name" or "photo"
    value = fields.CharField(max_length=256)  # the name, or the photo's Telegram file_id
    status = fields.CharEnumField(Review, max_length=16, default=Review.PENDING)
    created_at = fields.FloatField()
    decided_at = fields.FloatField(null=True)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="decided_profiles", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None

    class Meta:
        table = "profile_change"


class BotPrompt(Model):
    # What the bot waits for next from this user as free text (a note for a lead, a
    # broadcast's text, a search): kept in the database so a restart forgets nothing.

    id = fields.BigIntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="prompt", on_delete=fields.CASCADE
    )
    user_id: int
    kind = fields.CharField(max_length=32)
    data: dict[str, Any] = fields.JSONField(default=dict)
    at = fields.FloatField()

    class Meta:
        table = "bot_prompt"


class BroadcastStatus(StrEnum):
    DRAFT = "draft"  # segment and text chosen, waiting for confirmation
    SENDING = "sending"  # confirmed: messages are in the outbox
    DONE = "done"
    CANCELLED = "cancelled"


class Broadcast(Model):
    # One message to a segment, sent through the outbox at bulk priority.

    id = fields.BigIntField(primary_key=True)
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="broadcasts", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    segment: dict[str, Any] = fields.JSONField(default=dict)
    text = fields.TextField(default="")
    status = fields.CharEnumField(BroadcastStatus, max_length=16, default=BroadcastStatus.DRAFT)
    total = fields.IntField(default=0)
    # The chat that gets the progress message, and how far the last update said.
    progress_chat_id = fields.BigIntField(null=True)
    progress_shown = fields.CharField(max_length=64, default="")
    created_at = fields.FloatField()
    confirmed_at = fields.FloatField(null=True)
    finished_at = fields.FloatField(null=True)

    class Meta:
        table = "broadcast"
