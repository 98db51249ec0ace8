"""Presence in the database: the periodic flush, the recovery after a restart, the
platform click-through, and the webinar windows the tracker clips to.

`flush` writes what the tracker collected (`core/presence.py`) in one transaction: one
UPDATE for all the leads that changed (seconds added, the last moment seen, the start of
a visit not stored yet), and `client_webinar_left` for each visit that is over, keyed by
the visit's `in_room_since` being cleared in the same transaction — so a left is recorded
once, and never lost: a visit whose leaving was not recorded yet is still open in the
database, and `recover` picks it up after a restart.

What a crash (kill -9) loses is the presence since the last flush: at most
`FLUSH_SECONDS` of each lead's time in the room. It loses no event: `entered` is written
when it happens, `left` by the flush that closes the visit (or after the restart, by the
recovered visit's grace running out), and completion and classification are driven by
the stored status change (`core/classification.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient

from core.clock import Clock
from core.events import ClientWebinarLeft
from core.hub import SignalHub
from core.presence import Flushed, Leaving, PresenceTracker, Window
from models import StreamType, Webinar, WebinarRegistration, WebinarStatus

_OPEN = (WebinarStatus.SCHEDULED, WebinarStatus.LIVE)
_COLUMNS = 5  # webinar, lead, seconds, last seen, visit start
_ROWS_PER_STATEMENT = 5000


def window_of(webinar: Webinar) -> Window:
    return Window(
        webinar.id,
        webinar.started_at,
        webinar.ended_at,
        open=WebinarStatus(webinar.status) in _OPEN,
        external=StreamType(webinar.stream_type) is not StreamType.OBS,
    )


async def refresh_windows(tracker: PresenceTracker) -> None:
    """The live time of every webinar someone is tracked in, from the database (one query:
    a status changed by another process reaches the clipping at the next flush)."""
    ids = tracker.webinars()
    if ids:
        for webinar in await Webinar.filter(id__in=ids):
            if tracker.window(webinar.id) != (window := window_of(webinar)):
                tracker.set_window(window)


def _update_sql(connection: BaseDBAsyncClient, rows: int) -> str:
    if connection.capabilities.dialect == "postgres":
        marks = ("$" + str(i + 1) for i in range(rows * _COLUMNS))
    else:
        marks = ("?" for _ in range(rows * _COLUMNS))
    types = ("BIGINT", "BIGINT", "DOUBLE PRECISION", "DOUBLE PRECISION", "DOUBLE PRECISION")
    values = []
    for _ in range(rows):
        values.append("(" + ",".join(f"CAST({next(marks)} AS {t})" for t in types) + ")")
    # Placeholders only: every value is bound. The same text runs on SQLite (3.33+) and
    # PostgreSQL: a CTE of the values, then UPDATE ... FROM it.
    head = "WITH v(wid, lid, s, seen, visit) AS (VALUES " + ",".join(values) + ") "
    return head + (  # noqa: S608 (placeholders and fixed names only)
        'UPDATE "webinar_registration" SET '
        '"seconds_present" = "seconds_present" + v.s, '
        '"last_seen_at" = CASE WHEN v.seen IS NOT NULL AND ("last_seen_at" IS NULL OR '
        'v.seen > "last_seen_at") THEN v.seen ELSE "last_seen_at" END, '
        '"in_room_since" = COALESCE("in_room_since", v.visit) '
        'FROM v WHERE "webinar_registration"."webinar_id" = v.wid '
        'AND "webinar_registration"."lead_id" = v.lid'
    )


async def _add_presence(connection: BaseDBAsyncClient, rows: Sequence[Flushed]) -> None:
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        params: list[Any] = []
        for row in chunk:
            lead = row.lead
            params += [lead.webinar_id, lead.lead_id, row.seconds, row.last_seen, row.visit_start]
        await connection.execute_query(_update_sql(connection, len(chunk)), params)


async def _record_leaving(
    connection: BaseDBAsyncClient, leaving: Sequence[Leaving]
) -> list[ClientWebinarLeft]:
    events = []
    for gone in leaving:
        query = WebinarRegistration.filter(
            webinar_id=gone.webinar_id, lead_id=gone.lead_id, in_room_since__isnull=False
        ).using_db(connection)
        if not await query.update(in_room_since=None):
            continue  # recorded already (or never stored): once per visit
        seconds = cast(
            "list[float]",
            await WebinarRegistration.filter(webinar_id=gone.webinar_id, lead_id=gone.lead_id)
            .using_db(connection)
            .values_list("seconds_present", flat=True),
        )
        events.append(
            ClientWebinarLeft(
                timestamp=int(gone.at),
                webinar_id=str(gone.webinar_id),
                lead_id=gone.lead_id,
                seconds_present=int(float(seconds[0]) if seconds else 0),
            )
        )
    return events


async def flush(tracker: PresenceTracker, hub: SignalHub, clock: Clock) -> int:
    """Store what the tracker collected now; how many leads were written."""
    async with tracker.flush_lock:  # two flushes at once would add the same seconds twice
        await refresh_windows(tracker)
        rows, leaving = tracker.collect(clock.now())
        if not rows and not leaving:
            return 0
        async with hub.transaction() as tx:
            if rows:
                await _add_presence(tx.connection, rows)
            events = await _record_leaving(tx.connection, leaving)
            if events:
                await tx.publish_many(events)
        tracker.stored(rows, leaving)
        return len(rows)


async def close_open_visits(hub: SignalHub, webinar: Webinar) -> int:
    """A finished webinar's visits the database still has open (their leaving was lost
    with a crash): each `client_webinar_left` at its last moment seen; how many."""
    end = webinar.ended_at or 0.0
    open_visits = await WebinarRegistration.filter(
        webinar_id=webinar.id, in_room_since__isnull=False
    ).values_list("lead_id", "last_seen_at", "in_room_since")
    leaving = [
        Leaving(webinar.id, int(lead_id), min(float(seen or since), end) if end else float(seen))
        for lead_id, seen, since in open_visits
    ]
    if not leaving:
        return 0
    async with hub.transaction() as tx:
        events = await _record_leaving(tx.connection, leaving)
        await tx.publish_many(events)
    return len(events)


async def recover(tracker: PresenceTracker, clock: Clock) -> int:
    """At start: the visits left open by the last process, and the click-throughs of the
    webinars still open; how many visits."""
    now = clock.now()
    webinars = {w.id: w for w in await Webinar.filter(status__in=_OPEN)}
    if not webinars:
        return 0
    rows = await WebinarRegistration.filter(
        webinar_id__in=list(webinars), in_room_since__isnull=False
    ).values_list("webinar_id", "lead_id", "in_room_since", "last_seen_at")
    for webinar_id, lead_id, since, seen in rows:
        tracker.set_window(window_of(webinars[int(webinar_id)]))
        last = float(seen if seen is not None else since)
        tracker.recover(int(webinar_id), int(lead_id), float(since), last, now)
    opened = await WebinarRegistration.filter(
        webinar_id__in=list(webinars), platform_opened_at__isnull=False
    ).values_list("webinar_id", "lead_id")
    tracker.opened.update((int(w), int(lead)) for w, lead in opened)
    return len(rows)


async def platform_opened(
    tracker: PresenceTracker, clock: Clock, window: Window, lead_id: int
) -> bool:
    """The lead clicked "open in Zoom/Telegram" in the room: from now on their room counts
    while hidden too. The first click is stored; True when this one was it."""
    key = (window.webinar_id, lead_id)
    if key in tracker.opened:
        return False
    tracker.opened.add(key)
    updated = await WebinarRegistration.filter(
        webinar_id=window.webinar_id, lead_id=lead_id, platform_opened_at__isnull=True
    ).update(platform_opened_at=clock.now())
    return bool(updated)
