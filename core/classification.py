"""Attendance: every registered lead of a finished webinar classified exactly once.

The rule, per webinar: attended when present at least `attend_min_percent` of the live
time (`started_at..ended_at`), or at least `attend_min_minutes` (0: no minutes rule);
nobody with no presence at all has attended. Completed: present when the webinar was
stopped, or until its planned end (the real start plus the planned duration).

`classify_batch` classifies the next `BATCH` leads (in lead id order) in one transaction:
their `webinar_attendance` rows (unique per webinar and lead) and, per lead, its events —
`client_webinar_completed` when completed, `client_webinar_attendance_classified`, and
`post_webinar_route` (the route is the attendance). A process killed between batches
resumes at the first lead without a row: nobody is skipped, nobody classified twice.
"""

from __future__ import annotations

from typing import Any

from core.bulk import insert_rows
from core.clock import Clock
from core.events import (
    ClientWebinarAttendanceClassified,
    ClientWebinarCompleted,
    Event,
    PostWebinarRoute,
    WebinarCompleted,
)
from core.hub import SignalHub
from models import Attendance, Webinar, WebinarAttendance, WebinarRegistration

BATCH = 200


def live_seconds(webinar: Webinar) -> float:
    if webinar.started_at is None or webinar.ended_at is None:
        return 0.0
    return max(0.0, webinar.ended_at - webinar.started_at)


def attended(seconds: float, live: float, percent: int, minutes: int) -> bool:
    """The attendance rule (boundaries included: exactly 50% or exactly 20 min attend)."""
    if seconds <= 0:
        return False
    if minutes > 0 and seconds >= minutes * 60:
        return True
    return live > 0 and seconds * 100 >= percent * live


def completed(webinar: Webinar, seconds: float, last_seen: float | None) -> bool:
    """Present at the stop, or until the planned end."""
    if seconds <= 0 or last_seen is None or webinar.ended_at is None:
        return False
    start = webinar.started_at if webinar.started_at is not None else webinar.starts_at
    return last_seen >= min(webinar.ended_at, start + webinar.duration_min * 60)


async def classify_batch(hub: SignalHub, clock: Clock, webinar: Webinar) -> int:
    """Classify the next leads not classified yet; how many (0: all are)."""
    now = clock.now()
    live = live_seconds(webinar)
    async with hub.transaction() as tx:
        conn = tx.connection
        last = (
            await WebinarAttendance.filter(webinar_id=webinar.id)
            .using_db(conn)
            .order_by("-lead_id")
            .first()
            .values_list("lead_id", flat=True)
        )
        query = WebinarRegistration.filter(webinar_id=webinar.id)
        if last is not None:
            query = query.filter(lead_id__gt=last)
        registrations = (
            await query.using_db(conn)
            .order_by("lead_id")
            .limit(BATCH)
            .values_list("lead_id", "seconds_present", "last_seen_at")
        )
        rows: list[dict[str, Any]] = []
        events: list[Event] = []
        for lead_id, raw_seconds, last_seen in registrations:
            seconds = float(raw_seconds or 0)
            result = (
                Attendance.ATTENDED
                if attended(seconds, live, webinar.attend_min_percent, webinar.attend_min_minutes)
                else Attendance.NOT_ATTENDED
            )
            done = completed(webinar, seconds, last_seen)
            rows.append(
                {
                    "webinar_id": webinar.id,
                    "lead_id": lead_id,
                    "attendance": result,
                    "seconds_present": seconds,
                    "completed": done,
                    "classified_at": now,
                }
            )
            common = {"timestamp": int(now), "webinar_id": webinar.webinar_id, "lead_id": lead_id}
            if done:
                events.append(ClientWebinarCompleted(**common))
            events.append(
                ClientWebinarAttendanceClassified(
                    **common,
                    attendance=result.value,
                    seconds_present=int(seconds),
                    minutes=int(seconds // 60),
                )
            )
            events.append(PostWebinarRoute(**common, route=result.value))
        if rows:
            await insert_rows(conn, WebinarAttendance, rows, returning_ids=False)
            await tx.publish_many(events)
    return len(rows)


async def classify_webinar(hub: SignalHub, clock: Clock, webinar: Webinar) -> int:
    """Classify every registered lead not classified yet; how many this call did."""
    total = 0
    while count := await classify_batch(hub, clock, webinar):
        total += count
    return total


async def normalise_completed(hub: SignalHub, clock: Clock, event: ClientWebinarCompleted) -> bool:
    """The event emitter: `client_webinar_completed` → the canonical `webinar_completed`
    (`lead_id`, `webinar_id` as a string, `timestamp`), once: keyed by the classification
    row's `normalised_at`, set in the same transaction. True when this call emitted it."""
    async with hub.transaction() as tx:
        marked = (
            await WebinarAttendance.filter(
                webinar_id=int(event.webinar_id), lead_id=event.lead_id, normalised_at__isnull=True
            )
            .using_db(tx.connection)
            .update(normalised_at=clock.now())
        )
        if marked:
            await tx.publish(
                WebinarCompleted(
                    timestamp=event.timestamp,
                    webinar_id=str(event.webinar_id),
                    lead_id=event.lead_id,
                )
            )
    return bool(marked)
