"""People who talk to the bot, with their role in the canonical hierarchy."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    """admin → speaker → leader → partner → candidate; a higher role has every right below."""

    CANDIDATE = "candidate"
    PARTNER = "partner"
    LEADER = "leader"
    SPEAKER = "speaker"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class User(Model):
    id = fields.BigIntField(primary_key=True)
    telegram_id = fields.BigIntField(unique=True, null=True)
    role = fields.CharEnumField(Role, max_length=16, default=Role.CANDIDATE)
    first_name = fields.CharField(max_length=128, default="")
    last_name = fields.CharField(max_length=128, default="")
    username = fields.CharField(max_length=64, null=True)
    language_code = fields.CharField(max_length=16, null=True)
    # The language the user chose with /language; wins over Telegram's language_code.
    locale = fields.CharField(max_length=8, null=True)
    # A private chat with the bot; None until the user has written to the bot.
    chat_id = fields.BigIntField(null=True)
    # The partner's personal referral code (`/?ref=<code>`, `start=ref_<code>`).
    ref_code = fields.CharField(max_length=32, unique=True, null=True)
    # Who brought this user in (the partner whose lead they were when approved as a
    # partner): the edges of the team tree a leader sees.
    referred_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="recruits", null=True, on_delete=fields.SET_NULL
    )
    referred_by_id: int | None
    # The profile leads see, once approved (`approve_profiles`): name and photo file_id.
    display_name = fields.CharField(max_length=64, null=True)
    photo_file_id = fields.CharField(max_length=256, null=True)
    created_at = fields.FloatField()
    updated_at = fields.FloatField()

    class Meta:
        table = "app_user"

    def __str__(self) -> str:
        return f"User({self.telegram_id}, {self.role})"


class UserCapability(Model):
    # One user's exception to their role's defaults: granted=True adds a capability the
    # role lacks, granted=False withdraws one it has. The role itself is unchanged.

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="capabilities", on_delete=fields.CASCADE
    )
    user_id: int
    capability = fields.CharField(max_length=32)
    granted = fields.BooleanField()
    # Who changed it; None for the system (the command line).
    by_user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="capability_changes", null=True, on_delete=fields.SET_NULL
    )
    by_user_id: int | None
    at = fields.FloatField()

    class Meta:
        table = "user_capability"
        unique_together = (("user", "capability"),)
