"""Tracker v2's presence, in memory: who is in which webinar's room, and for how long.

The room reports (`web/room_presence.py`) every `BEAT` seconds while it is open and
visible, once when it is hidden, and once (a beacon) when it closes. Each report names
the browser tab it comes from. A lead is present while at least one of their tabs is:
their time is the union of their tabs' time, so two tabs or two devices never count
twice. A tab that stops reporting has left at its last report once `TIMEOUT` has passed
(a zoom/telegram room hidden after its platform was opened counts as present — the
viewer is in Zoom — and waits `EXTERNAL_TIMEOUT`: browsers slow hidden pages' timers).

Only live time counts: the seconds are clipped to the webinar's `started_at..ended_at`
(its `Window`) when they are moved from an open presence into `pending`, which happens
at each flush point and at each end of presence. `pending` is what the next flush adds
to the database (`core/presence_store.py`): one UPDATE per flush for every lead, never a
row per report.

A visit opens when the lead becomes present and closes when they have been absent for
`LEFT_GRACE`: a reload, a glance at another tab or a flaky network within the grace is
the same visit. Each closed visit is one `client_webinar_left`, stamped with the moment
the lead stopped being present; coming back after it opens another visit (and a later
leaving is another `left`). The arithmetic takes `now` as an argument: no clock, no I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

BEAT = 15.0  # the room reports this often while visible
TIMEOUT = 45.0  # a visible tab silent this long left at its last report (3 beats missed)
EXTERNAL_TIMEOUT = 150.0  # a hidden room whose Zoom/Telegram is open: timers are slowed
LEFT_GRACE = 60.0  # absent at least this long: the visit is over (`client_webinar_left`)
FLUSH_SECONDS = 10.0  # presence reaches the database this often (what a crash may lose)


@dataclass(frozen=True)
class Window:
    """A webinar's live time as far as known; `live`: it takes presence now."""

    webinar_id: int
    started_at: float | None
    ended_at: float | None
    open: bool = True  # scheduled or live (finished/cancelled rooms report nothing)
    external: bool = False  # zoom/telegram: the platform's click-through counts

    def clip(self, start: float, end: float) -> float:
        """The live seconds of [start, end]."""
        if self.started_at is None:
            return 0.0
        low = max(start, self.started_at)
        high = end if self.ended_at is None else min(end, self.ended_at)
        return max(0.0, high - low)


@dataclass
class LeadPresence:
    """One lead in one webinar's room."""

    webinar_id: int
    lead_id: int
    tabs: dict[str, tuple[float, float]] = field(default_factory=dict)  # tab → (last, expires)
    since: float | None = None  # present (some tab active) since
    counted_to: float = 0.0  # the open presence is counted into `pending` up to here
    pending: float = 0.0  # live seconds not flushed yet
    last_seen: float | None = None
    visit_start: float | None = None  # a visit is open (its `left` not recorded yet)
    visit_stored: bool = False  # the open visit's start is in the database
    leave_due: float | None = None  # absent: the visit closes at this time
    absent_since: float | None = None
    dirty: bool = False

    @property
    def present(self) -> bool:
        return self.since is not None


@dataclass(frozen=True)
class Flushed:
    """What one flush stores of one lead: seconds to add, the last moment seen, and the
    start of a visit not stored yet."""

    lead: LeadPresence
    seconds: float
    last_seen: float | None
    visit_start: float | None


@dataclass(frozen=True)
class Leaving:
    """A visit that closed: `client_webinar_left` at `at`."""

    webinar_id: int
    lead_id: int
    at: float


class PresenceTracker:
    """The presence of every lead in every room this process serves."""

    def __init__(self) -> None:
        self._leads: dict[tuple[int, int], LeadPresence] = {}
        self._windows: dict[int, Window] = {}
        self.opened: set[tuple[int, int]] = set()  # (webinar, lead) clicked into the platform
        self.reports = 0  # since start (the benchmark reads it)
        self.flush_lock = asyncio.Lock()  # one flush at a time (`core/presence_store.py`)

    # ---- the webinars' live time ---------------------------------------------------------

    def window(self, webinar_id: int) -> Window | None:
        return self._windows.get(webinar_id)

    def set_window(self, window: Window) -> None:
        self._windows[window.webinar_id] = window

    def webinars(self) -> list[int]:
        """The webinars someone is tracked in (the flush refreshes their windows)."""
        return sorted({w for w, _ in self._leads})

    # ---- reports ------------------------------------------------------------------------

    def report(self, window: Window, lead_id: int, tab: str, state: str, now: float) -> bool:
        """One report from a room tab: `state` visible | hidden | gone. Whether the lead
        counts as present now."""
        self.reports += 1
        key = (window.webinar_id, lead_id)
        lead = self._leads.get(key)
        if lead is None:
            lead = self._leads[key] = LeadPresence(window.webinar_id, lead_id)
        self._expire(lead, window, now)
        platform = window.external and key in self.opened
        if state == "visible" or (state == "hidden" and platform):
            timeout = TIMEOUT if state == "visible" else EXTERNAL_TIMEOUT
            lead.tabs[tab] = (now, now + timeout)
            lead.last_seen = now if lead.last_seen is None else max(lead.last_seen, now)
            if lead.since is None:
                lead.since = lead.counted_to = now
                lead.absent_since = lead.leave_due = None
                if lead.visit_start is None:
                    lead.visit_start = now
                    lead.visit_stored = False
            lead.dirty = True
        elif lead.tabs.pop(tab, None) is not None and not lead.tabs:
            self._end(lead, window, now)
        return lead.present

    def _expire(self, lead: LeadPresence, window: Window, now: float) -> None:
        gone = [(tab, last) for tab, (last, expires) in lead.tabs.items() if expires <= now]
        if not gone:
            return
        for tab, _ in gone:
            del lead.tabs[tab]
        if not lead.tabs and lead.since is not None:
            self._end(lead, window, max(last for _, last in gone))

    def _end(self, lead: LeadPresence, window: Window, at: float) -> None:
        """No tab is present any more since `at`: count up to it, start the grace."""
        if lead.since is None:
            return
        at = max(at, lead.counted_to)
        lead.pending += window.clip(lead.counted_to, at)
        lead.counted_to = at
        lead.since = None
        lead.last_seen = at if lead.last_seen is None else max(lead.last_seen, at)
        lead.absent_since = at
        lead.leave_due = at + LEFT_GRACE
        lead.dirty = True

    # ---- what the flush takes -------------------------------------------------------------

    def collect(self, now: float) -> tuple[list[Flushed], list[Leaving]]:
        """Move every open presence's seconds up to `now` into `pending`; what to store
        (taken now, so reports arriving while it is written change nothing of it), and the
        visits that are over. The caller stores both in one transaction and then calls
        `stored` (or nothing, on failure: the same is collected again next time)."""
        rows: list[Flushed] = []
        leaving: list[Leaving] = []
        for lead in list(self._leads.values()):
            window = self._windows.get(lead.webinar_id)
            if window is None:
                continue
            self._expire(lead, window, now)
            if lead.since is not None and now > lead.counted_to:
                lead.pending += window.clip(lead.counted_to, now)
                lead.counted_to = now
                lead.last_seen = now
                lead.dirty = True
            if lead.dirty or (lead.visit_start is not None and not lead.visit_stored):
                visit = None if lead.visit_stored else lead.visit_start
                rows.append(Flushed(lead, lead.pending, lead.last_seen, visit))
            if lead.leave_due is not None and lead.leave_due <= now and lead.since is None:
                at = lead.absent_since if lead.absent_since is not None else now
                leaving.append(Leaving(lead.webinar_id, lead.lead_id, at))
        return rows, leaving

    def stored(self, rows: list[Flushed], leaving: list[Leaving]) -> None:
        """The flush committed: `rows` and `leaving` are in the database."""
        for row in rows:
            lead = row.lead
            lead.pending -= row.seconds
            lead.dirty = lead.pending > 0 or lead.last_seen != row.last_seen
            if row.visit_start is not None and lead.visit_start == row.visit_start:
                lead.visit_stored = True
        for gone in leaving:
            key = (gone.webinar_id, gone.lead_id)
            back = self._leads.get(key)
            if back is None:
                continue
            lead = back
            lead.leave_due = lead.absent_since = None
            # Back while the leaving was being written: that is a new visit.
            lead.visit_start = lead.since
            lead.visit_stored = False
            if lead.since is None and not lead.tabs and not lead.dirty:
                del self._leads[key]

    # ---- the end of a webinar, and a restart ---------------------------------------------

    def finish(self, window: Window) -> None:
        """The webinar stopped at `window.ended_at`: everyone present stops there, and
        every open visit closes now (nobody can come back into a finished webinar)."""
        self._windows[window.webinar_id] = window
        end = window.ended_at if window.ended_at is not None else 0.0
        for lead in self.of(window.webinar_id):
            # A tab silent past its timeout before the stop left at its last report, even
            # when no flush has noticed it yet: it is not counted to the end.
            self._expire(lead, window, end)
            lead.tabs.clear()
            if lead.since is not None:
                self._end(lead, window, max(end, lead.counted_to))
            if lead.visit_start is not None:
                lead.leave_due = end
                lead.absent_since = min(lead.absent_since or end, end)

    def recover(
        self, webinar_id: int, lead_id: int, visit_start: float, last_seen: float, now: float
    ) -> None:
        """A visit the database says is open, after a restart: absent since its last
        flushed moment; it closes unless the lead reports again within the grace."""
        key = (webinar_id, lead_id)
        if key in self._leads:
            return
        self._leads[key] = LeadPresence(
            webinar_id,
            lead_id,
            counted_to=last_seen,
            last_seen=last_seen,
            visit_start=visit_start,
            visit_stored=True,
            absent_since=last_seen,
            leave_due=max(now, last_seen) + LEFT_GRACE,
        )

    def of(self, webinar_id: int) -> Iterator[LeadPresence]:
        return (p for (w, _), p in list(self._leads.items()) if w == webinar_id)

    def get(self, webinar_id: int, lead_id: int) -> LeadPresence | None:
        return self._leads.get((webinar_id, lead_id))

    def forget(self, webinar_id: int) -> None:
        """Drop a finished webinar's state once it is stored."""
        for key in [k for k in self._leads if k[0] == webinar_id]:
            del self._leads[key]
        self._windows.pop(webinar_id, None)
        self.opened = {k for k in self.opened if k[0] != webinar_id}
