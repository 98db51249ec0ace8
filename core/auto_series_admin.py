"""Operating an AUTO webinar's series: what is coming, pause and resume, replay, delete.

The bot's series screen and the `webinar series` commands both come here, so a rule is
said once. Rights are capabilities, as for every webinar (`core/roles.py`): seeing the
sessions and pausing or resuming the schedule is `webinar_manage_status` (it decides
which sessions start); naming the chat to replay and deleting is `webinar_create`. An
actor of None is the operator at the command line.

Pausing (docs/decisions.md, "Pausing an AUTO series"): no new session is planned, and
the planned sessions nobody registered for are removed (so none starts and the page
offers none; see `_remove_unregistered` for why not cancelled); a session with
registrations still happens — its registrants were promised it — unless someone
cancels it like any webinar (its registrants are then told). Resuming plans the coming
sessions at once, so the page offers them again without waiting for the next tick.

Deleting retires the series: it refuses while a session is live, and while a coming
session has registrations unless forced; then every coming session is cancelled (the
registrants told), planning stops for good and the series is no longer listed. Past
sessions keep their registrations and attendance, so the row stays while any points at
it; a series that never planned a session is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from core.auto_webinars import plan_sessions
from core.clock import Clock
from core.hub import SignalHub
from core.roles import Capability
from core.webinar_rules import WebinarInvalid
from core.webinars import Outcome, find_webinar, require_capability, set_status
from locales import N_
from models import AutoSeries, User, Webinar, WebinarKind, WebinarRegistration, WebinarStatus

VIEW = Capability.WEBINAR_MANAGE_STATUS
PAUSE = Capability.WEBINAR_MANAGE_STATUS
CHANGE = Capability.WEBINAR_CREATE
COMING_LIMIT = 10  # sessions shown on the series screen
COMING = (WebinarStatus.SCHEDULED, WebinarStatus.LIVE)


class SeriesGone(LookupError):
    """No such series (or it was deleted)."""


class SeriesBusy(Exception):
    """Not deleted: `reason` is a msgid with `{count}`."""

    def __init__(self, reason: str, count: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.count = count


LIVE_NOW = N_("A session is live now: wait until it has finished, or stop it first.")
HAS_REGISTRANTS = N_(
    "{count} people registered for its coming sessions: delete with --force to cancel "
    "them (the registrants are told)."
)


class Change(StrEnum):
    APPLIED = "applied"
    ALREADY = "already"  # it was paused (resumed) already


@dataclass(frozen=True)
class Session:
    """One coming session as the operators see it."""

    webinar: Webinar
    registrations: int


@dataclass(frozen=True)
class SeriesView:
    series: AutoSeries
    sessions: list[Session]  # live and scheduled, soonest first (at most the limit)
    coming: int  # every live or scheduled session
    registrations: int  # registered for all of them


@dataclass(frozen=True)
class PauseResult:
    change: Change
    removed: int  # sessions nobody registered for, removed by the pause
    kept: int  # coming sessions kept: people registered for them
    planned: int  # sessions planned by a resume


@dataclass(frozen=True)
class DeleteResult:
    cancelled: int
    removed: bool  # the row itself is gone (no session ever pointed at it)


async def get_series(series_id: int) -> AutoSeries:
    series = await AutoSeries.get_or_none(id=series_id, deleted_at__isnull=True)
    if series is None:
        raise SeriesGone(series_id)
    return series


async def find_series(ref: str) -> AutoSeries:
    """A series by its id or slug; raises `SeriesGone`."""
    text = ref.strip().lower()
    found = None
    if text.isdigit():
        found = await AutoSeries.get_or_none(id=int(text), deleted_at__isnull=True)
    if found is None and text:
        found = await AutoSeries.get_or_none(slug=text, deleted_at__isnull=True)
    if found is None:
        raise SeriesGone(ref)
    return found


async def registration_counts(webinar_ids: list[int]) -> dict[int, int]:
    """Registrations per webinar (absent: none), one query."""
    if not webinar_ids:
        return {}
    rows = (
        await WebinarRegistration.filter(webinar_id__in=webinar_ids)
        .annotate(n=Count("id"))
        .group_by("webinar_id")
        .values_list("webinar_id", "n")
    )
    return {int(webinar_id): int(n) for webinar_id, n in rows}


async def _coming(series_id: int) -> list[Webinar]:
    return (
        await Webinar.filter(series_id=series_id, status__in=COMING)
        .order_by("starts_at", "id")
        .all()
    )


async def series_view(
    series_id: int, *, actor: User | None, limit: int = COMING_LIMIT
) -> SeriesView:
    """The series and its coming sessions with their registration counts."""
    await require_capability(actor, VIEW)
    series = await get_series(series_id)
    coming = await _coming(series.id)
    counts = await registration_counts([w.id for w in coming])
    sessions = [Session(w, counts.get(w.id, 0)) for w in coming[:limit]]
    return SeriesView(series, sessions, len(coming), sum(counts.values()))


async def list_series(*, actor: User | None) -> list[SeriesView]:
    """Every series not deleted, oldest first, each with its coming sessions' counts."""
    await require_capability(actor, VIEW)
    found = []
    for series in await AutoSeries.filter(deleted_at__isnull=True).order_by("id"):
        found.append(await series_view(series.id, actor=None))
    return found


async def any_series() -> bool:
    """Whether there is an AUTO webinar to operate (the webinar list offers its screen)."""
    return await AutoSeries.filter(deleted_at__isnull=True).exists()


async def pause_series(
    hub: SignalHub, clock: Clock, series_id: int, *, actor: User | None
) -> PauseResult:
    """Stop planning; cancel the coming sessions nobody registered for; keep the rest."""
    await require_capability(actor, PAUSE)
    series = await get_series(series_id)
    now = clock.now()
    taken = await AutoSeries.filter(id=series.id, paused=False).update(paused=True, updated_at=now)
    removed = await _remove_unregistered(series.id)
    kept = await Webinar.filter(series_id=series.id, status__in=COMING).count()
    change = Change.APPLIED if taken else Change.ALREADY
    return PauseResult(change, removed, kept, 0)


async def _remove_unregistered(series_id: int) -> int:
    """Remove the scheduled sessions nobody registered for; the number removed.

    Removed rather than cancelled: nobody is there to tell, nothing consumes a session's
    creation, and a cancelled row would keep its start's unique key, so a resume could
    never plan that session again. The rows are locked first (PostgreSQL): a
    registration arriving meanwhile waits for the lock (its foreign key check), then
    fails on the missing session instead of being dropped with it.
    """
    async with in_transaction() as conn:
        ids = cast(
            "list[int]",
            await Webinar.filter(series_id=series_id, status=WebinarStatus.SCHEDULED)
            .using_db(conn)
            .select_for_update()
            .values_list("id", flat=True),
        )
        taken = set(
            cast(
                "list[int]",
                await WebinarRegistration.filter(webinar_id__in=ids)
                .using_db(conn)
                .distinct()
                .values_list("webinar_id", flat=True),
            )
        )
        free = [i for i in ids if i not in taken]
        if free:
            await Webinar.filter(id__in=free).using_db(conn).delete()
    return len(free)


async def resume_series(
    hub: SignalHub, clock: Clock, series_id: int, *, actor: User | None
) -> PauseResult:
    """Plan again, and plan the coming sessions now."""
    await require_capability(actor, PAUSE)
    series = await get_series(series_id)
    now = clock.now()
    taken = await AutoSeries.filter(id=series.id, paused=True).update(paused=False, updated_at=now)
    await series.refresh_from_db()
    planned = len(await plan_sessions(hub, clock, series)) if not series.paused else 0
    kept = await Webinar.filter(series_id=series.id, status__in=COMING).count()
    change = Change.APPLIED if taken else Change.ALREADY
    return PauseResult(change, 0, kept, planned)


async def set_replay_source(
    clock: Clock, series_id: int, source: str | None, *, actor: User | None
) -> Webinar | None:
    """Name the live run whose chat replays in each session (None: no replay)."""
    await require_capability(actor, CHANGE)
    series = await get_series(series_id)
    webinar = None
    if source is not None:
        webinar = await find_webinar(source)
        if webinar is None or webinar.kind != WebinarKind.LIVE:
            raise WebinarInvalid(
                "replay_chat_from", N_("{value!r} is not a live webinar"), value=source
            )
    await AutoSeries.filter(id=series.id).update(
        replay_chat_from_id=webinar.id if webinar else None, updated_at=clock.now()
    )
    return webinar


async def delete_series(
    hub: SignalHub, clock: Clock, series_id: int, *, actor: User | None, force: bool = False
) -> DeleteResult:
    """Retire the series (see the module's docstring); raises `SeriesBusy` when refused."""
    await require_capability(actor, CHANGE)
    series = await get_series(series_id)
    coming = await _coming(series.id)
    live = sum(1 for w in coming if WebinarStatus(w.status) is WebinarStatus.LIVE)
    if live:
        raise SeriesBusy(LIVE_NOW, live)
    registered = sum((await registration_counts([w.id for w in coming])).values())
    if registered and not force:
        raise SeriesBusy(HAS_REGISTRANTS, registered)
    now = clock.now()
    await AutoSeries.filter(id=series.id).update(paused=True, deleted_at=now, updated_at=now)
    cancelled = 0
    for webinar in coming:
        change = await set_status(hub, clock, webinar.id, WebinarStatus.CANCELLED, actor=actor)
        cancelled += change.outcome is Outcome.APPLIED
    removed = False
    if not await Webinar.filter(series_id=series.id).exists():
        await AutoSeries.filter(id=series.id).delete()
        removed = True
    return DeleteResult(cancelled, removed)
