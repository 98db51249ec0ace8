"""`webinar_event`: the canonical webinar, and who registered for which webinar.

Times are unix seconds (UTC); `tz` is the zone the webinar was planned in, used to show it
to its operators. A visitor sees the start in their own zone (the browser's, or the one
they registered with). `started_at`/`ended_at` are when the webinar really went live and
stopped: attendance counts only the time between them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.leads import LeadEntry
    from models.users import User


class WebinarKind(StrEnum):
    LIVE = "live"
    AUTO = "auto"  # a recording played on a schedule as if live


class WebinarStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class StreamType(StrEnum):
    """Where the picture and the chat are: the seed's chat ownership by `stream_type`."""

    OBS = "obs"  # an embedded player in our room; our internal chat
    ZOOM = "zoom"  # the platform opens in a new tab; its own chat is the chat
    TELEGRAM = "telegram"  # a Telegram group/channel stream; the group's chat is the chat


DEFAULT_REMINDER_OFFSETS = (24 * 3600, 3600, 600)


class Webinar(Model):
    id = fields.BigIntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    kind = fields.CharEnumField(WebinarKind, max_length=8, default=WebinarKind.LIVE)
    starts_at = fields.FloatField(db_index=True)
    duration_min = fields.IntField()
    tz = fields.CharField(max_length=64)
    status = fields.CharEnumField(
        WebinarStatus, max_length=16, default=WebinarStatus.SCHEDULED, db_index=True
    )
    # The host of this webinar: a context, not a role (every speaker moderates every one).
    speaker: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="hosted_webinars", null=True, on_delete=fields.SET_NULL
    )
    speaker_id: int | None
    stream_type = fields.CharEnumField(StreamType, max_length=16)
    stream_url = fields.CharField(max_length=1000)
    recording_url = fields.CharField(max_length=1000, null=True)
    # The internal chat exists (obs only: two chats for one webinar are forbidden) …
    chat_enabled = fields.BooleanField(default=True)
    # … and is open for posting (speakers close and reopen it).
    chat_open = fields.BooleanField(default=True)
    # Attended = present at least this share of the live time, or at least these minutes.
    attend_min_percent = fields.IntField(default=50)
    attend_min_minutes = fields.IntField(default=20)
    # The speaker's call-to-action form is shown in the room (`core/offers.py`).
    offer_open = fields.BooleanField(default=False)
    # When the reminders go, in seconds before the start, largest first; None: the defaults
    # (24 h, 1 h, 10 min). `webinar create/edit --reminders`; read when each one is due.
    reminder_offsets: list[int] | None = fields.JSONField(null=True)
    started_at = fields.FloatField(null=True)
    ended_at = fields.FloatField(null=True)
    # The last status change and who made it (None: the system), to tell a second presser.
    status_changed_at = fields.FloatField(null=True)
    status_changed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="webinar_status_changes", null=True, on_delete=fields.SET_NULL
    )
    status_changed_by_id: int | None
    # An AUTO session's series (`AutoSeries`): the rule that planned it. None: a live one.
    series: fields.ForeignKeyNullableRelation[AutoSeries] = fields.ForeignKeyField(
        "models.AutoSeries", related_name="sessions", null=True, on_delete=fields.RESTRICT
    )
    series_id: int | None
    created_at = fields.FloatField()
    updated_at = fields.FloatField()

    registrations: fields.ReverseRelation[WebinarRegistration]

    class Meta:
        table = "webinar_event"
        # One session per series and start: planning twice (or in two processes) is harmless.
        unique_together = (("series", "starts_at"),)

    @property
    def ends_at(self) -> float:
        """The planned end: start plus the planned duration."""
        return self.starts_at + self.duration_min * 60

    @property
    def reminders(self) -> tuple[int, ...]:
        """Seconds before the start at which reminders go, largest first."""
        offsets = (
            DEFAULT_REMINDER_OFFSETS if self.reminder_offsets is None else self.reminder_offsets
        )
        return tuple(sorted({int(o) for o in offsets}, reverse=True))

    @property
    def webinar_id(self) -> str:
        """The id as the seed's events carry it (a string)."""
        return str(self.id)


class AutoSeries(Model):
    """An AUTO webinar: a recording and the rule that plans its sessions.

    Not a webinar itself: it has no status, registrations or attendance. Each session is
    its own `webinar_event` (kind auto, `series_id` set), planned ahead by
    `core/auto_webinars.plan_sessions`, so every flow of a live webinar applies to it.
    """

    id = fields.BigIntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    tz = fields.CharField(max_length=64)
    # {"kind": "daily"|"weekly"|"dates", "times": ["19:00"], "days": [0, 3],
    #  "dates": ["2026-12-01T19:00"]}: local wall times in `tz` (`core/auto_webinars.py`).
    schedule: dict[str, Any] = fields.JSONField()
    # Local dates (YYYY-MM-DD in `tz`) on which no session is planned.
    blackout: list[str] = fields.JSONField(default=list)
    recording_url = fields.CharField(max_length=1000)
    recording_duration_min = fields.IntField()
    chat_enabled = fields.BooleanField(default=True)
    # Paused: no new sessions are planned (the planned ones still run).
    paused = fields.BooleanField(default=False)
    created_at = fields.FloatField()
    updated_at = fields.FloatField()
    # The original live run whose chat replays in each session at its offsets
    # (`core/chat.py`'s replay); None: no replay.
    replay_chat_from: fields.ForeignKeyNullableRelation[Webinar] = fields.ForeignKeyField(
        "models.Webinar", related_name="replayed_by", null=True, on_delete=fields.SET_NULL
    )
    replay_chat_from_id: int | None
    # Deleted by an operator (`core/auto_series_admin.py`): no longer listed or planned;
    # the row stays while past sessions point at it.
    deleted_at = fields.FloatField(null=True)

    sessions: fields.ReverseRelation[Webinar]

    class Meta:
        table = "webinar_auto_series"


class WebinarRegistration(Model):
    # One lead registered for one webinar, however many times they submitted the form.

    id = fields.BigIntField(primary_key=True)
    webinar: fields.ForeignKeyRelation[Webinar] = fields.ForeignKeyField(
        "models.Webinar", related_name="registrations", on_delete=fields.CASCADE
    )
    webinar_id: int
    lead: fields.ForeignKeyRelation[LeadEntry] = fields.ForeignKeyField(
        "models.LeadEntry", related_name="webinar_registrations", on_delete=fields.CASCADE
    )
    lead_id: int
    source = fields.CharField(max_length=64)
    registered_at = fields.FloatField()
    # The first time the lead came in through their personal link (tracker v2).
    entered_at = fields.FloatField(null=True)
    # Presence (tracker v2, `core/presence.py`), written by its periodic flush, never per
    # heartbeat: live seconds in the room so far, the last moment seen there, and the
    # start of the visit now open (None: not in the room, its leaving already recorded).
    seconds_present = fields.FloatField(default=0)
    last_seen_at = fields.FloatField(null=True)
    in_room_since = fields.FloatField(null=True)
    # The first click on "open in Zoom/Telegram" in the room (zoom/telegram webinars).
    platform_opened_at = fields.FloatField(null=True)
    # The room's call-to-action form was sent (once per lead and webinar).
    form_submitted_at = fields.FloatField(null=True)

    class Meta:
        table = "webinar_registration"
        unique_together = (("webinar", "lead"),)


class Attendance(StrEnum):
    ATTENDED = "attended"
    NOT_ATTENDED = "not_attended"


class WebinarAttendance(Model):
    # One registered lead's classification after the webinar, stored with its events in
    # one transaction: the unique key is what makes it happen exactly once.

    id = fields.BigIntField(primary_key=True)
    webinar: fields.ForeignKeyRelation[Webinar] = fields.ForeignKeyField(
        "models.Webinar", related_name="attendance", on_delete=fields.CASCADE
    )
    webinar_id: int
    lead: fields.ForeignKeyRelation[LeadEntry] = fields.ForeignKeyField(
        "models.LeadEntry", related_name="webinar_attendance", on_delete=fields.CASCADE
    )
    lead_id: int
    attendance = fields.CharEnumField(Attendance, max_length=16)
    seconds_present = fields.FloatField()
    # Present at the stop, or until the planned end: `client_webinar_completed` was recorded.
    completed = fields.BooleanField(default=False)
    classified_at = fields.FloatField()
    # When the emitter normalised the completion into `webinar_completed` (once).
    normalised_at = fields.FloatField(null=True)

    class Meta:
        table = "webinar_attendance"
        unique_together = (("webinar", "lead"),)


class ChatMessage(Model):
    # One message of a webinar's internal chat (obs webinars only). A viewer writes as
    # their lead; a speaker as their user. A deleted message stays for the record.

    id = fields.BigIntField(primary_key=True)
    webinar: fields.ForeignKeyRelation[Webinar] = fields.ForeignKeyField(
        "models.Webinar", related_name="chat_messages", on_delete=fields.CASCADE
    )
    webinar_id: int
    lead: fields.ForeignKeyNullableRelation[LeadEntry] = fields.ForeignKeyField(
        "models.LeadEntry", related_name="chat_messages", null=True, on_delete=fields.SET_NULL
    )
    lead_id: int | None
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="chat_messages", null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    author_name = fields.CharField(max_length=200)
    # Written by a speaker (shown as such in the room).
    from_speaker = fields.BooleanField(default=False)
    text = fields.CharField(max_length=1000)
    at = fields.FloatField()
    deleted_at = fields.FloatField(null=True)
    deleted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="deleted_chat_messages", null=True, on_delete=fields.SET_NULL
    )
    deleted_by_id: int | None
    # A message of the original live run replayed in an AUTO session (no lead, no user:
    # nobody wrote it here); once per session (the unique key).
    replay_of: fields.ForeignKeyNullableRelation[ChatMessage] = fields.ForeignKeyField(
        "models.ChatMessage", related_name="replays", null=True, on_delete=fields.SET_NULL
    )
    replay_of_id: int | None

    class Meta:
        table = "webinar_chat_message"
        unique_together = (("webinar", "replay_of"),)
        indexes = (("webinar_id", "id"),)


class ChatMute(Model):
    # A viewer a speaker silenced in one webinar's chat (they still watch and read).

    id = fields.BigIntField(primary_key=True)
    webinar: fields.ForeignKeyRelation[Webinar] = fields.ForeignKeyField(
        "models.Webinar", related_name="chat_mutes", on_delete=fields.CASCADE
    )
    webinar_id: int
    lead: fields.ForeignKeyRelation[LeadEntry] = fields.ForeignKeyField(
        "models.LeadEntry", related_name="chat_mutes", on_delete=fields.CASCADE
    )
    lead_id: int
    by_user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="chat_mutes_made", null=True, on_delete=fields.SET_NULL
    )
    by_user_id: int | None
    at = fields.FloatField()

    class Meta:
        table = "webinar_chat_mute"
        unique_together = (("webinar", "lead"),)
