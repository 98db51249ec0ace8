"""The catalogue of the seed's events: one place that names each event and its payload.

Names are the customer's, verbatim (other systems of theirs may already use them). Every
payload carries `timestamp` (unix seconds), `lead_id` when known and `webinar_id` (a
string) for webinar events. `docs/EVENTS.md` and friends are generated from this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeVar


class Status(StrEnum):
    IMPLEMENTED = "implemented"
    PLANNED = "planned"


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every payload. Subclasses are registered with `@event(...)`."""

    event_name: ClassVar[str]
    timestamp: int

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Event:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class EventSpec:
    name: str
    payload: type[Event]
    summary: str
    emitters: tuple[str, ...]
    status: Status


CATALOGUE: dict[str, EventSpec] = {}

E = TypeVar("E", bound=type[Event])


def event(
    name: str, *, summary: str, emitters: tuple[str, ...], status: Status = Status.IMPLEMENTED
) -> Callable[[E], E]:
    """Register a payload class under the seed's event `name`."""

    def register(cls: E) -> E:
        if name in CATALOGUE:
            raise ValueError(f"event {name!r} is declared twice")
        cls.event_name = name
        CATALOGUE[name] = EventSpec(name, cls, summary, emitters, status)
        return cls

    return register


def spec_of(name: str) -> EventSpec:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"{name!r} is not in the event catalogue") from None


# ---- Ingest and leads -----------------------------------------------------------------


@event(
    "core_ingest_event",
    summary="A contact came in (web form, ingest webhook, bot referral); Core creates or "
    "updates the `lead_entry`.",
    emitters=("web: registration form (POST /)", "web: ingest webhook (POST /api/ingest)"),
)
@dataclass(frozen=True, kw_only=True)
class CoreIngestEvent(Event):
    source: str
    name: str = ""
    phone: str | None = None
    email: str | None = None
    ref: str | None = None
    utm: dict[str, str] = field(default_factory=dict)
    tz: str | None = None
    webinar_id: str | None = None
    lead_id: int | None = None
    created: bool = False


@event(
    "core_lead_created",
    summary="A new `lead_entry` exists (never emitted twice for one person).",
    emitters=("core: core_ingest_event",),
)
@dataclass(frozen=True, kw_only=True)
class CoreLeadCreated(Event):
    lead_id: int
    lead_source: str
    partner_id: int | None = None
    ref: str | None = None


@event(
    "core_lead_bound",
    summary="A lead opened the bot through its personal deep link: its Telegram chat is known.",
    emitters=(
        "bot: /start <token>",
        "bot: /start ref_<code>",
        "bot: a shared contact proving the lead's phone",
    ),
)
@dataclass(frozen=True, kw_only=True)
class CoreLeadBound(Event):
    lead_id: int
    user_id: int
    telegram_id: int
    chat_id: int


@event(
    "scenario_start",
    summary="A scenario (e.g. `welcome`) starts for a lead.",
    emitters=(
        "scenario service: core_lead_created (web_form) → welcome",
        "scenario service: client_webinar_registered → webinar_reminders",
        "scenario service: post_webinar_route → post_webinar_attended | post_webinar_not_attended",
    ),
)
@dataclass(frozen=True, kw_only=True)
class ScenarioStart(Event):
    scenario: str
    lead_id: int
    subject: str = ""


@event(
    "core_lead_unsubscribed",
    summary="The lead asked for no more messages (`/stop`): their scenario runs are cancelled.",
    emitters=("bot: /stop",),
)
@dataclass(frozen=True, kw_only=True)
class CoreLeadUnsubscribed(Event):
    lead_id: int
    user_id: int
    actor: str
    actor_user_id: int | None = None


@event(
    "telegram_chat_unreachable",
    summary="Telegram answered 403 (the user blocked the bot): nothing more is sent there.",
    emitters=("delivery: outbox sender",),
)
@dataclass(frozen=True, kw_only=True)
class TelegramChatUnreachable(Event):
    chat_id: int
    reason: str
    lead_id: int | None = None


@event(
    "telegram_chat_migrated",
    summary="Telegram answered that a group became a supergroup with a new id: the queued "
    "messages and every chat id we keep now use the new one.",
    emitters=("delivery: outbox sender",),
)
@dataclass(frozen=True, kw_only=True)
class TelegramChatMigrated(Event):
    chat_id: int
    migrate_to_chat_id: int
    lead_id: int | None = None


# ---- Users, roles and capabilities ------------------------------------------------------


@event(
    "core_user_role_set",
    summary="A user's role changed (also for a Telegram id that has not opened the bot yet: "
    "the role waits for them).",
    emitters=("CLI: python main.py users set-role", "bot: /users"),
)
@dataclass(frozen=True, kw_only=True)
class CoreUserRoleSet(Event):
    user_id: int
    telegram_id: int | None
    role: str
    previous_role: str | None
    # "system" for the command line, else "user:<id>"; actor_user_id is that user.
    actor: str
    actor_user_id: int | None = None


@event(
    "core_user_capability_set",
    summary="One capability granted to (granted=true) or withdrawn from (false) one user, "
    "overriding their role's default.",
    emitters=("CLI: python main.py users grant|revoke", "bot: /users"),
)
@dataclass(frozen=True, kw_only=True)
class CoreUserCapabilitySet(Event):
    user_id: int
    telegram_id: int | None
    capability: str
    granted: bool
    actor: str
    actor_user_id: int | None = None


@event(
    "core_user_applied",
    summary="A candidate asked to become a partner (`/apply`, or the webinar room's form); "
    "users with `approve_users` get a notice with buttons.",
    emitters=("bot: /apply", "web: webinar room form"),
)
@dataclass(frozen=True, kw_only=True)
class CoreUserApplied(Event):
    application_id: int
    user_id: int
    telegram_id: int | None
    via: str
    lead_id: int | None = None


@event(
    "core_user_application_decided",
    summary="An application was approved (the candidate is now a partner with a referral "
    "code, in the team of the partner who brought them) or rejected.",
    emitters=("bot: approval notice buttons",),
)
@dataclass(frozen=True, kw_only=True)
class CoreUserApplicationDecided(Event):
    application_id: int
    user_id: int
    telegram_id: int | None
    decision: str  # "approved" | "rejected"
    referred_by_id: int | None
    actor: str
    actor_user_id: int | None = None


@event(
    "core_profile_change_requested",
    summary="A partner changed what leads see of them (display name or photo); it waits "
    "for a user with `approve_profiles`.",
    emitters=("bot: /profile",),
)
@dataclass(frozen=True, kw_only=True)
class CoreProfileChangeRequested(Event):
    change_id: int
    user_id: int
    field: str  # "name" | "photo"


@event(
    "core_profile_change_decided",
    summary="A profile change was approved (leads see it from now on) or rejected.",
    emitters=("bot: profile review buttons",),
)
@dataclass(frozen=True, kw_only=True)
class CoreProfileChangeDecided(Event):
    change_id: int
    user_id: int
    field: str
    decision: str  # "approved" | "rejected"
    actor: str
    actor_user_id: int | None = None


# ---- The partner CRM and admin tools -----------------------------------------------------


@event(
    "core_lead_status_set",
    summary="A partner set a lead's CRM status (new, in_progress, applied, partner, rejected).",
    emitters=("bot: lead card buttons",),
)
@dataclass(frozen=True, kw_only=True)
class CoreLeadStatusSet(Event):
    lead_id: int
    status: str
    previous_status: str
    actor: str
    actor_user_id: int | None = None


@event(
    "core_lead_note_added",
    summary="A partner added a note to a lead's card.",
    emitters=("bot: lead card",),
)
@dataclass(frozen=True, kw_only=True)
class CoreLeadNoteAdded(Event):
    lead_id: int
    note_id: int
    text: str
    actor: str
    actor_user_id: int | None = None


@event(
    "core_leads_exported",
    summary="The leads in someone's scope were exported as CSV (who, how many).",
    emitters=("bot: /export", "CLI: python main.py leads export"),
)
@dataclass(frozen=True, kw_only=True)
class CoreLeadsExported(Event):
    count: int
    scope: str  # "all" | "team" | "own"
    actor: str
    actor_user_id: int | None = None


@event(
    "core_broadcast_drafted",
    summary="Someone with `broadcast` chose a segment: a draft broadcast waits for its text.",
    emitters=("bot: /broadcast",),
)
@dataclass(frozen=True, kw_only=True)
class CoreBroadcastDrafted(Event):
    broadcast_id: int
    segment: dict[str, str]
    actor: str
    actor_user_id: int | None = None


@event(
    "core_broadcast_text_set",
    summary="A draft broadcast got its text (Telegram HTML, as the recipients will see it).",
    emitters=("bot: /broadcast",),
)
@dataclass(frozen=True, kw_only=True)
class CoreBroadcastTextSet(Event):
    broadcast_id: int
    text: str
    actor: str
    actor_user_id: int | None = None


@event(
    "core_broadcast_cancelled",
    summary="A draft broadcast was cancelled by its author, or at Confirm because nobody is "
    "in its segment any more; nothing was sent.",
    emitters=("bot: /broadcast",),
)
@dataclass(frozen=True, kw_only=True)
class CoreBroadcastCancelled(Event):
    broadcast_id: int
    reason: str  # "author" | "empty_segment"
    actor: str
    actor_user_id: int | None = None


@event(
    "core_broadcast_confirmed",
    summary="A broadcast to a segment was confirmed; its messages go out through the outbox "
    "at bulk priority, with a progress message to its author.",
    emitters=("bot: /broadcast",),
)
@dataclass(frozen=True, kw_only=True)
class CoreBroadcastConfirmed(Event):
    broadcast_id: int
    segment: dict[str, str]
    total: int
    actor: str
    actor_user_id: int | None = None


# ---- Webinars ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WebinarEvent(Event):
    webinar_id: str


@dataclass(frozen=True, kw_only=True)
class LeadWebinarEvent(WebinarEvent):
    lead_id: int


@event(
    "core_webinar_created",
    summary="A webinar was created (title, start, stream type); its public page is `/w/<slug>`.",
    emitters=("CLI: python main.py webinar create", "bot: /webinars (new webinar dialog)"),
)
@dataclass(frozen=True, kw_only=True)
class CoreWebinarCreated(WebinarEvent):
    slug: str
    title: str
    starts_at: int
    stream_type: str
    actor: str
    actor_user_id: int | None = None


@event(
    "core_webinar_updated",
    summary="A webinar was edited; `changed` names the fields. A new start time "
    "(`previous_starts_at` set) moves everything that hangs on it.",
    emitters=("CLI: python main.py webinar edit", "bot: /webinars (edit dialog)"),
)
@dataclass(frozen=True, kw_only=True)
class CoreWebinarUpdated(WebinarEvent):
    changed: list[str]
    starts_at: int
    previous_starts_at: int | None = None
    actor: str
    actor_user_id: int | None = None


@event(
    "core_webinar_set_status",
    summary="Start/stop: a legal webinar status transition (scheduled → live → finished, "
    "or scheduled → cancelled), applied once however many times it is asked for.",
    emitters=("bot: /webinars Start/Stop buttons", "CLI: python main.py webinar set-status"),
)
@dataclass(frozen=True, kw_only=True)
class CoreWebinarSetStatus(WebinarEvent):
    status: str
    previous_status: str
    actor: str
    actor_user_id: int | None = None


@event(
    "client_webinar_registered",
    summary="A lead registered for a webinar (once per lead and webinar, however many "
    "times they submit).",
    emitters=(
        "web: webinar public page (POST /w/<slug>)",
        "web: registration form (POST /, the next scheduled webinar)",
        "web: ingest webhook (POST /api/ingest with webinar)",
    ),
)
@dataclass(frozen=True, kw_only=True)
class ClientWebinarRegistered(LeadWebinarEvent):
    source: str = ""


@event(
    "client_webinar_entered",
    summary="A lead entered the room for the first time (once per lead and webinar, while "
    "it is scheduled or live): through the personal tracker link, or the room opened as a "
    "Telegram Mini App. The registration's `entered_at` is set in the same transaction.",
    emitters=(
        "web: tracker v2 personal link (GET /t/<webinar>/<token>)",
        "web: webinar room as a Telegram Mini App (POST /w/<slug>/room/telegram)",
    ),
)
@dataclass(frozen=True, kw_only=True)
class ClientWebinarEntered(LeadWebinarEvent):
    via: str = "link"  # "link" | "mini_app"


@event(
    "client_webinar_left",
    summary="A lead's visit to the room ended: every tab of theirs hidden, closed or silent "
    "past the timeout, and not back within the grace (`core/presence.py`). Stamped with the "
    "moment they stopped being present; once per visit (coming back opens another visit). "
    "`seconds_present`: their live seconds in the room so far.",
    emitters=(
        "web: tracker v2 presence reports (POST /w/<slug>/room/presence), by the presence flush",
        "service: attendance (visits still open when the webinar stops)",
    ),
)
@dataclass(frozen=True, kw_only=True)
class ClientWebinarLeft(LeadWebinarEvent):
    seconds_present: int = 0


@event(
    "client_webinar_completed",
    summary="A lead completed the webinar: present when it was stopped, or until its planned "
    "end (start plus duration). Recorded with the lead's classification, once.",
    emitters=("service: attendance (tracker v2 presence, when the webinar is stopped)",),
)
@dataclass(frozen=True, kw_only=True)
class ClientWebinarCompleted(LeadWebinarEvent):
    pass


@event(
    "webinar_completed",
    summary="Canonical form of `client_webinar_completed`, normalised by the event emitter "
    "(once per lead and webinar).",
    emitters=("service: client webinar event emitter",),
)
@dataclass(frozen=True, kw_only=True)
class WebinarCompleted(LeadWebinarEvent):
    pass


@event(
    "client_webinar_form_submitted",
    summary="A lead sent the room's call-to-action form (once per lead and webinar); the "
    'consumer applies through `core/applications.apply(via="room")` when the lead is a '
    "Telegram user (the approvers then get the application's notice).",
    emitters=("web: webinar room form (POST /w/<slug>/room/offer)",),
)
@dataclass(frozen=True, kw_only=True)
class ClientWebinarFormSubmitted(LeadWebinarEvent):
    fields: dict[str, str] = field(default_factory=dict)


@event(
    "client_webinar_attendance_classified",
    summary="After the webinar each registered lead is classified attended | not_attended, "
    "exactly once: attended = present at least the webinar's `attend_min_percent` of the "
    "live time, or at least its `attend_min_minutes`.",
    emitters=("service: attendance (core_webinar_set_status → finished)",),
)
@dataclass(frozen=True, kw_only=True)
class ClientWebinarAttendanceClassified(LeadWebinarEvent):
    attendance: str  # "attended" | "not_attended"
    seconds_present: int = 0
    minutes: int = 0  # whole minutes present (seconds_present // 60)


@event(
    "post_webinar_route",
    summary="The route a lead takes after the webinar: attended | not_attended (stored with "
    "the classification, in the same transaction).",
    emitters=("service: post-webinar routing",),
)
@dataclass(frozen=True, kw_only=True)
class PostWebinarRoute(LeadWebinarEvent):
    route: str


@event(
    "core_webinar_offer_opened",
    summary="A speaker opened the call-to-action form in the room: every open room shows it.",
    emitters=("web: webinar room (speaker link)", "bot: /webinars (offer button)"),
)
@dataclass(frozen=True, kw_only=True)
class CoreWebinarOfferOpened(WebinarEvent):
    actor: str
    actor_user_id: int | None = None


@event(
    "core_webinar_offer_closed",
    summary="A speaker closed the call-to-action form: it disappears from every open room.",
    emitters=("web: webinar room (speaker link)", "bot: /webinars (offer button)"),
)
@dataclass(frozen=True, kw_only=True)
class CoreWebinarOfferClosed(WebinarEvent):
    actor: str
    actor_user_id: int | None = None


# ---- The room's internal chat (obs webinars) -------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChatModerated(WebinarEvent):
    actor: str
    actor_user_id: int | None = None


@event(
    "core_webinar_chat_message_deleted",
    summary="A speaker deleted a message of a webinar's internal chat; it disappears from "
    "every open room.",
    emitters=("web: webinar room (speaker link)",),
)
@dataclass(frozen=True, kw_only=True)
class CoreWebinarChatMessageDeleted(ChatModerated):
    message_id: int
    lead_id: int | None = None  # the author, when a viewer wrote it


@event(
    "core_webinar_chat_muted",
    summary="A speaker muted a viewer in one webinar's chat: they still watch and read, "
    "but cannot post.",
    emitters=("web: webinar room (speaker link)",),
)
@dataclass(frozen=True, kw_only=True)
class CoreWebinarChatMuted(ChatModerated):
    lead_id: int


@event(
    "core_webinar_chat_unmuted",
    summary="A speaker let a muted viewer post again.",
    emitters=("web: webinar room (speaker link)",),
)
@dataclass(frozen=True, kw_only=True)
class CoreWebinarChatUnmuted(ChatModerated):
    lead_id: int


@event(
    "core_webinar_chat_closed",
    summary="A speaker closed a webinar's chat: viewers read it but cannot post.",
    emitters=("web: webinar room (speaker link)",),
)
@dataclass(frozen=True, kw_only=True)
class CoreWebinarChatClosed(ChatModerated):
    pass


@event(
    "core_webinar_chat_opened",
    summary="A speaker opened a webinar's chat again.",
    emitters=("web: webinar room (speaker link)",),
)
@dataclass(frozen=True, kw_only=True)
class CoreWebinarChatOpened(ChatModerated):
    pass
