"""The webinar scenarios: reminders before and during a webinar, the follow-ups after it.

Data, like `welcome`. One run per lead and webinar (`subject` is the webinar's id). Every
condition and moment reads the webinar when its step is due, never when the run began:
a cancelled or finished webinar sends nothing, a lead who entered gets no "we have
started", and a moved start moves the waits (the reschedule consumer begins the runs
again, `handlers/webinar_followups.py`).

Reminders go at the webinar's own offsets (`reminder_offsets`, 24 h, 1 h and 10 min
before the start by default; at most `REMINDERS_MAX`). A reminder whose time had passed
when the run began (a late registrant) is skipped; one who registered after every
reminder's time gets one "starting soon" instead. After a slow restart only the latest
reminder that is due goes, not all the ones missed. A lead without a Telegram chat when a
reminder is due misses that one (a `Send` would wait for the chat and go out stale); the
ones after it reach them once they open the bot. All of them are CRITICAL in the
outbox: they overtake everything else, so a crowd's "10 minutes" leaves before the start.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.links import Links
from core.webinar_rules import REMINDERS_MAX
from locales import N_
from models import Priority, Webinar, WebinarRegistration, WebinarStatus
from scheduler.messages import Params, Translate
from scheduler.scenario import (
    At,
    Branch,
    ButtonSpec,
    Condition,
    Moment,
    RunContext,
    Scenario,
    Send,
    Step,
    Stop,
)

FIVE_MINUTES = 300.0

ROOM_BUTTON = ((ButtonSpec(N_("🎥 Open the webinar room"), url="{room_link}"),),)
REMINDER = N_(
    "⏰ {name}, the webinar «{title}» starts in {starts_in}: {start_time}. Your personal "
    "link to the room is below."
)
CATCH_UP = N_(
    "⏰ {name}, the webinar «{title}» is starting soon, in {starts_in}: {start_time}. Your "
    "personal link to the room is below."
)
WE_HAVE_STARTED = N_(
    "🔴 {name}, the webinar «{title}» has started! Join us with your personal link below."
)


async def webinar_of(ctx: RunContext) -> Webinar | None:
    """The run's webinar (its `subject`), read once per advance through the run's transaction."""
    if "webinar" not in ctx.memo:
        subject = ctx.run.subject
        ctx.memo["webinar"] = (
            await Webinar.filter(id=int(subject)).using_db(ctx.tx.connection).first()
            if subject.isdigit()
            else None
        )
    webinar: Webinar | None = ctx.memo["webinar"]
    return webinar


async def read_webinars(contexts: Sequence[RunContext]) -> None:
    """`webinar_of` for a group of runs advanced together (a burst of registrations
    starting their reminders): one query for the group's webinars, not one per run."""
    ids = {int(ctx.run.subject) for ctx in contexts if ctx.run.subject.isdigit()}
    if not ids:
        return
    db = contexts[0].tx.connection
    webinars = {w.id: w for w in await Webinar.filter(id__in=ids).using_db(db)}
    for ctx in contexts:
        subject = ctx.run.subject
        ctx.memo["webinar"] = webinars.get(int(subject)) if subject.isdigit() else None


async def _upcoming(ctx: RunContext) -> Webinar | None:
    """The webinar while it is still scheduled and has not reached its start."""
    webinar = await webinar_of(ctx)
    if webinar is None or webinar.status != WebinarStatus.SCHEDULED:
        return None
    return webinar if ctx.clock.now() < webinar.starts_at else None


# ---- before the webinar ---------------------------------------------------------------------


def _reminder_time(slot: int) -> Moment:
    async def moment(ctx: RunContext) -> float | None:
        webinar = await _upcoming(ctx)
        if webinar is None or slot >= len(webinar.reminders):
            return None
        return webinar.starts_at - webinar.reminders[slot]

    moment.__doc__ = f"reminder {slot + 1}'s time: the start minus the webinar's offset"
    return moment


def _reminder_due(slot: int) -> Condition:
    async def condition(ctx: RunContext) -> bool:
        webinar = await _upcoming(ctx)
        if webinar is None or slot >= len(webinar.reminders) or ctx.lead.chat_id is None:
            return False  # without a chat the message would wait and be stale when it went
        offsets, now = webinar.reminders, ctx.clock.now()
        if webinar.starts_at - offsets[slot] < ctx.run.started_at:
            return False  # already past when the lead registered (or the webinar moved)
        # After a slow restart only the latest reminder due goes, not every one missed.
        return slot + 1 >= len(offsets) or webinar.starts_at - offsets[slot + 1] > now

    condition.__doc__ = (
        f"reminder {slot + 1} exists, was ahead when the run began, the next one is not "
        "due yet, the webinar is scheduled and not started, and the lead has a chat"
    )
    return condition


async def too_late_for_every_reminder(ctx: RunContext) -> bool:
    """The lead registered after every reminder's time, before the start: one catch-up."""
    webinar = await _upcoming(ctx)
    if webinar is None or not webinar.reminders or ctx.lead.chat_id is None:
        return False
    return webinar.starts_at - webinar.reminders[-1] < ctx.run.started_at


# ---- during the webinar ---------------------------------------------------------------------


async def five_minutes_in(ctx: RunContext) -> float | None:
    """Five minutes after the real start (the planned one while it is not live yet)."""
    webinar = await webinar_of(ctx)
    if webinar is None:
        return None
    if webinar.status == WebinarStatus.LIVE:
        return (webinar.started_at or webinar.starts_at) + FIVE_MINUTES
    if webinar.status == WebinarStatus.SCHEDULED:
        # Not started on time: its start wakes the run; past the planned end, give up.
        planned = webinar.starts_at + FIVE_MINUTES
        now = ctx.clock.now()
        return planned if planned > now else (webinar.ends_at if webinar.ends_at > now else None)
    return None


async def live_and_not_entered(ctx: RunContext) -> bool:
    """The webinar is live, the lead has a chat and has not entered the room."""
    webinar = await webinar_of(ctx)
    if webinar is None or webinar.status != WebinarStatus.LIVE or ctx.lead.chat_id is None:
        return False
    entered = (
        await WebinarRegistration.filter(
            webinar_id=webinar.id, lead_id=ctx.lead.id, entered_at__not_isnull=True
        )
        .using_db(ctx.tx.connection)
        .exists()
    )
    return not entered


# ---- after the webinar ----------------------------------------------------------------------


async def webinar_has_recording(ctx: RunContext) -> bool:
    """The webinar has a recording to offer."""
    webinar = await webinar_of(ctx)
    return webinar is not None and bool(webinar.recording_url)


def _reminder_steps() -> tuple[Step, ...]:
    steps: list[Step] = []
    for slot in range(REMINDERS_MAX):
        n = slot + 1
        after = f"reminder_{n + 1}" if n < REMINDERS_MAX else "started"
        steps += [
            At(f"reminder_{n}_time", id=f"reminder_{n}"),
            Branch(f"reminder_{n}_due", then=f"send_{n}", otherwise=after),
            Send(REMINDER, buttons=ROOM_BUTTON, priority=Priority.CRITICAL, id=f"send_{n}"),
        ]
    return tuple(steps)


WEBINAR_REMINDERS = Scenario(
    name="webinar_reminders",
    prepare=read_webinars,
    description=(
        "client_webinar_registered → scenario_start(webinar_reminders), one run per lead and "
        "webinar. Before: a reminder at each of the webinar's offsets (`--reminders`, default "
        "24h,1h,10m before the start; up to five slots), each skipped when its time had "
        "passed at registration; a lead who registered after every reminder's time gets one "
        "“starting soon” at once. During: five minutes after the start, “we have started” "
        "with the personal room link, unless the lead has entered. Every condition is read "
        "when its step is due: a cancelled or finished webinar sends nothing. A new start "
        "or new offsets (core_webinar_updated) begin the runs again as a new round: waits "
        "move, reminders already past are skipped, nothing is sent twice. A start or stop "
        "(core_webinar_set_status) wakes the runs. All messages are CRITICAL in the outbox."
    ),
    steps=(
        Branch("too_late_for_every_reminder", then="catch_up", otherwise="reminder_1"),
        Send(CATCH_UP, buttons=ROOM_BUTTON, priority=Priority.CRITICAL, id="catch_up"),
        *_reminder_steps(),
        At("five_minutes_in", id="started"),
        Branch("live_and_not_entered", then="we_have_started", otherwise="stop"),
        Send(
            WE_HAVE_STARTED,
            buttons=((ButtonSpec(N_("🔴 Join the webinar"), url="{room_link}"),),),
            priority=Priority.CRITICAL,
            id="we_have_started",
        ),
    ),
)

POST_WEBINAR_ATTENDED = Scenario(
    name="post_webinar_attended",
    prepare=read_webinars,
    description=(
        "post_webinar_route (attended) → scenario_start(post_webinar_attended): thanks and "
        "the next step (questions, /apply)."
    ),
    steps=(
        Send(
            N_(
                "🙏 {name}, thank you for being with us at «{title}»! Any question left? "
                "Write it here, we will pass it on. Want to become a partner? Send /apply."
            ),
            id="thanks",
        ),
    ),
)

POST_WEBINAR_NOT_ATTENDED = Scenario(
    name="post_webinar_not_attended",
    prepare=read_webinars,
    description=(
        "post_webinar_route (not_attended) → scenario_start(post_webinar_not_attended): the "
        "offer of the recording, a button that opens `recording_url`; without a recording, "
        "the message without the offer."
    ),
    steps=(
        Branch("webinar_has_recording", then="offer"),
        Send(
            N_("{name}, we missed you at «{title}». We will let you know about the next webinar."),
            id="no_recording",
        ),
        Stop(),
        Send(
            N_(
                "{name}, we missed you at «{title}». The recording is ready: watch it "
                "whenever it suits you."
            ),
            buttons=((ButtonSpec(N_("▶️ Watch the recording"), url="{recording_url}"),),),
            id="offer",
        ),
    ),
)

WEBINAR_SCENARIOS = (WEBINAR_REMINDERS, POST_WEBINAR_ATTENDED, POST_WEBINAR_NOT_ATTENDED)

WEBINAR_CONDITIONS: dict[str, Condition] = {
    "too_late_for_every_reminder": too_late_for_every_reminder,
    **{f"reminder_{s + 1}_due": _reminder_due(s) for s in range(REMINDERS_MAX)},
    "live_and_not_entered": live_and_not_entered,
    "webinar_has_recording": webinar_has_recording,
}

WEBINAR_MOMENTS: dict[str, Moment] = {
    **{f"reminder_{s + 1}_time": _reminder_time(s) for s in range(REMINDERS_MAX)},
    "five_minutes_in": five_minutes_in,
}


# ---- what the messages show -----------------------------------------------------------------


def webinar_params(links: Links, translate: Translate) -> Params:
    """The `{placeholders}` of the webinar scenarios' messages, for `ScenarioEngine`."""

    async def params(ctx: RunContext, locale: str) -> Mapping[str, str]:
        webinar = await webinar_of(ctx)
        if webinar is None:
            return {}
        zone = _zone(ctx.lead.tz, webinar.tz)
        start = datetime.fromtimestamp(webinar.starts_at, UTC).astimezone(zone)
        return {
            "title": html.escape(webinar.title),
            "start_time": f"{start:%d.%m.%Y %H:%M} ({html.escape(zone.key)})",
            "starts_in": starts_in(webinar.starts_at - ctx.clock.now(), locale, translate),
            "room_link": links.room_link(webinar, ctx.lead.id),
            "recording_url": webinar.recording_url or "",
        }

    return params


def _zone(*names: str | None) -> ZoneInfo:
    """The lead's zone (from their browser), else the webinar's."""
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ValueError, ZoneInfoNotFoundError):
                continue
    return ZoneInfo("UTC")


def starts_in(seconds: float, locale: str, translate: Translate) -> str:
    """`10 min`, `1 h`, `1 h 30 min`, `3 d` — the time left, in the reader's language."""
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return translate(locale, N_("{n} min")).format(n=minutes)
    hours, rest = divmod(minutes, 60)
    if hours >= 48:
        return translate(locale, N_("{n} d")).format(n=round(hours / 24))
    text = translate(locale, N_("{n} h")).format(n=hours)
    if rest:
        text += " " + translate(locale, N_("{n} min")).format(n=rest)
    return text
