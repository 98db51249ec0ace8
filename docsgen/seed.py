"""The hand-written half of the generated docs: the seed's layers, flows and scenarios.

Only what the code cannot say lives here (what a layer is for, what a flow means). Whether
a flow or scenario works today is never written by hand: the renderer derives it from the
event catalogue, the real subscriptions and the models.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layer:
    name: str
    does: str
    where: tuple[str, ...]  # top-level folders (or files) of this code base


LAYERS: tuple[Layer, ...] = (
    Layer(
        "Integration (inbound)",
        "turns outside input into Core commands and events: the web form, the ingest "
        "webhook, tracker v2 (redirect + AJAX heartbeats), bot commands",
        ("web", "bot"),
    ),
    Layer(
        "Core",
        "entities (`lead_entry`, `webinar_event`, users and roles, registrations, "
        "attendance), the canonical events and commands, the signal hub",
        ("core", "models"),
    ),
    Layer(
        "Service / Scenario",
        "consumers of events: normalisation, attendance, routing, the welcome and reminder "
        "scenarios, notifications; timed work",
        ("handlers", "scheduler"),
    ),
    Layer("Delivery", "the only way anything reaches Telegram: a durable outbox", ("delivery",)),
    Layer("UI", "render-only pages over Core data", ("web",)),
    Layer("Composition root", "builds everything and runs it in one event loop", ("main.py",)),
    Layer("Local Telegram", "a fake Bot API and the /sandbox page (no BOT_TOKEN)", ("sandbox",)),
)


@dataclass(frozen=True)
class Flow:
    """One of the seed's flows. Its status is derived from what it `needs` in the code."""

    title: str
    steps: str
    events: tuple[str, ...] = ()  # must exist and be `implemented` in the catalogue
    consumed: tuple[str, ...] = ()  # must have at least one real subscriber
    tables: tuple[str, ...] = ()  # must exist among the models
    scenarios: tuple[str, ...] = ()  # declarative scenario definitions that must exist


FLOWS: tuple[Flow, ...] = (
    Flow(
        "Web form → lead",
        "web form or webhook → `core_ingest_event` → `lead_entry` (lead_source, "
        "first_touch_at, lead_created_at, lead_created_via = core_ingest) → `core_lead_created`",
        events=("core_ingest_event", "core_lead_created"),
        tables=("lead_entry", "lead_touch"),
    ),
    Flow(
        "Partner notice",
        "new web_form lead → Telegram notice to the referring partner (or the admins)",
        events=("core_lead_created",),
        consumed=("core_lead_created",),
    ),
    Flow(
        "Welcome scenario",
        "`core_lead_created` (web_form) → `scenario_start(welcome)` → welcome message → "
        "10 minutes → follow-up; messages wait until the lead binds a chat via `/start <token>`",
        events=("core_lead_created", "scenario_start"),
        consumed=("core_lead_created", "scenario_start"),
    ),
    Flow(
        "Webinar reminders",
        "registration → `client_webinar_registered` → reminders before the webinar and, "
        "when the lead has not entered, during it",
        events=("client_webinar_registered",),
        consumed=("client_webinar_registered",),
        tables=("webinar_event",),
        # Other consumers of the registration (the confirmation) are no reminders.
        scenarios=("webinar_reminders",),
    ),
    Flow(
        "Start / stop",
        "speaker in the bot (or CLI, or the AUTO scheduler) → `core_webinar_set_status` "
        "(scheduled → live → finished, or cancelled)",
        events=("core_webinar_set_status",),
        consumed=("core_webinar_set_status",),
        tables=("webinar_event",),
    ),
    Flow(
        "Tracker v2",
        "personal room link → `client_webinar_entered`; heartbeats measure presence; "
        "`client_webinar_left`; `client_webinar_completed` → normalised `webinar_completed`",
        events=(
            "client_webinar_entered",
            "client_webinar_left",
            "client_webinar_completed",
            "webinar_completed",
        ),
        consumed=("client_webinar_completed",),
        tables=("webinar_event",),
    ),
    Flow(
        "Attendance and post-webinar routing",
        "webinar ends → each registered lead `client_webinar_attendance_classified` → partner "
        "notice, and `post_webinar_route` → candidate follow-up (+ recording offer if "
        "not_attended)",
        events=("client_webinar_attendance_classified", "post_webinar_route"),
        consumed=("client_webinar_attendance_classified", "post_webinar_route"),
        tables=("webinar_event",),
    ),
    Flow(
        "Chat ownership by stream_type",
        "obs → internal chat moderated by speakers; zoom / telegram → internal chat off, a "
        "button opens the platform in a new tab; two chats for one webinar are refused",
        tables=("webinar_event",),
    ),
    Flow(
        "AUTO webinars",
        "a recording played on a schedule as if live; the same tracker, attendance, routing",
        # The same tracker, attendance and routing as a live webinar: it needs them all.
        events=(
            "core_webinar_set_status",
            "client_webinar_left",
            "client_webinar_completed",
            "client_webinar_attendance_classified",
            "post_webinar_route",
        ),
        consumed=("core_webinar_set_status",),
        tables=("webinar_event",),
    ),
    Flow(
        "Registration notices",
        "`client_webinar_registered` → the lead's confirmation (date and time in their zone, "
        "the personal room button; sent at `core_lead_bound` when the chat is not known yet) "
        "and the partner's notice (a new lead's is its new-lead notice); "
        "`core_webinar_set_status` (cancelled) and `core_webinar_updated` (a new start) → "
        "every registrant told once; `client_webinar_entered` → the partner's notice",
        events=(
            "client_webinar_registered",
            "core_lead_bound",
            "core_webinar_set_status",
            "core_webinar_updated",
            "client_webinar_entered",
        ),
        consumed=(
            "client_webinar_registered",
            "core_lead_bound",
            "core_webinar_set_status",
            "core_webinar_updated",
            "client_webinar_entered",
        ),
        tables=("webinar_event", "webinar_registration"),
    ),
)


@dataclass(frozen=True)
class Scenario:
    name: str
    trigger: str  # the event that starts it
    steps: tuple[str, ...]
    definition: str | None = None  # the declarative scenario that implements it, by name


# The seed's scenarios, as the customer wrote them: the checklist the declarative
# definitions (handlers/scenarios.py) are measured against in the scenario docs.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "new web_form lead → partner notice",
        "core_lead_created",
        ("Telegram notice to the referring partner; with no partner, to the admins",),
    ),
    Scenario(
        "welcome (start)",
        "core_lead_created",
        ("source is web_form → emit `scenario_start` with scenario `welcome`",),
    ),
    Scenario(
        "welcome",
        "scenario_start",
        (
            "wait until the lead has bound a Telegram chat (`/start <token>`)",
            "send the welcome message",
            "wait 10 minutes",
            "send the follow-up message",
        ),
        definition="welcome",
    ),
    Scenario(
        "client webinar reminders",
        "client_webinar_registered",
        (
            "reminders before the webinar (conditional)",
            "reminders during the webinar, when the lead has not entered (conditional)",
        ),
        definition="webinar_reminders",
    ),
    Scenario(
        "attendance → partner notice",
        "client_webinar_attendance_classified",
        ("Telegram notice to the partner: attended | not_attended",),
    ),
    Scenario(
        "post-webinar routing",
        "client_webinar_attendance_classified",
        ("emit `post_webinar_route` with route attended | not_attended",),
    ),
    Scenario(
        "post-webinar follow-up",
        "post_webinar_route",
        (
            "Telegram follow-up to the candidate (attended | not_attended)",
            "not_attended: offer the webinar recording",
        ),
    ),
)

# What the customer's old (WordPress) system had, per the seed, to compare with ours.
SEED_STATUS: dict[str, str] = {
    "core_ingest_event": "implemented",
    "core_lead_created": "implemented",
    "scenario_start": "implemented",
    "core_webinar_set_status": "implemented",
    "client_webinar_entered": "implemented",
    "client_webinar_completed": "implemented",
    "webinar_completed": "implemented",
    "client_webinar_attendance_classified": "implemented",
    "post_webinar_route": "implemented",
    "client_webinar_registered": "planned",
    "client_webinar_left": "planned",
    "client_webinar_form_submitted": "planned",
}

# Who should consume each event, per the seed and the design; the docs set it beside who does.
INTENDED_CONSUMERS: dict[str, str] = {
    "core_ingest_event": "Core ingest (a command: runs inline, not a subscriber)",
    "core_lead_created": "partner notice (web_form); welcome scenario start (web_form)",
    "scenario_start": "scenario engine",
    "core_webinar_set_status": "Core: applies a legal transition, records the change",
    "client_webinar_registered": "reminder scenario; partner notice",
    "client_webinar_entered": "attendance; cancels the 'we have started' reminder",
    "client_webinar_left": "attendance",
    "client_webinar_completed": "event emitter → `webinar_completed`",
    "webinar_completed": "attendance",
    "client_webinar_form_submitted": "partner notice; lead CRM status",
    "client_webinar_attendance_classified": "partner notice; routing → `post_webinar_route`",
    "post_webinar_route": "candidate follow-up; recording offer (not_attended)",
}
