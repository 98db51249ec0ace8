"""Funnel counts for a period over one user's lead scope: the numbers behind `/stats`.

Transport-independent: the bot renders them, a page or the command line could too.
A period is `[since, until)` in unix seconds; `since=None` means "all time". Events are
counted by when they were stored (`event_log.created_at`), leads by `lead_created_at`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.attendance import Stage, leads_at
from core.clock import Clock
from core.scope import LeadScope, Reach
from models import Application, EventRecord, LeadEntry, Review


class Period(StrEnum):
    TODAY = "today"
    WEEK = "7d"
    MONTH = "30d"
    ALL = "all"


def period_start(period: Period, clock: Clock, timezone: str) -> float | None:
    """Where `period` begins: midnight in `timezone` for today, None for all time."""
    now = clock.now()
    if period is Period.TODAY:
        local = datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo(timezone))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    if period is Period.WEEK:
        return now - 7 * 86400
    if period is Period.MONTH:
        return now - 30 * 86400
    return None


@dataclass(frozen=True)
class FunnelStats:
    new_by_source: dict[str, int] = field(default_factory=dict)
    bound: int = 0
    registered: int = 0
    attended: int = 0
    applied: int = 0
    approved: int = 0

    @property
    def new_leads(self) -> int:
        return sum(self.new_by_source.values())


async def funnel_stats(scope: LeadScope, since: float | None, until: float) -> FunnelStats:
    """The funnel of the leads in `scope` for the period `[since, until)`."""
    everything = scope.reach is Reach.ALL
    # The ids of the leads in scope (None: every lead, no filter needed).
    lead_ids: list[int] | None = None
    if not everything:
        lead_ids = [int(i) for i in await scope.leads().values_list("id", flat=True)]  # type: ignore[call-overload]

    leads = LeadEntry.all() if lead_ids is None else LeadEntry.filter(id__in=lead_ids)
    if since is not None:
        leads = leads.filter(lead_created_at__gte=since)
    sources = await leads.filter(lead_created_at__lt=until).values_list("lead_source", flat=True)
    new_by_source = dict(sorted(Counter(str(s) for s in sources).items()))

    async def leads_with(name: str) -> int:
        query = EventRecord.filter(name=name, lead_id__not_isnull=True, created_at__lt=until)
        if since is not None:
            query = query.filter(created_at__gte=since)
        if lead_ids is not None:
            query = query.filter(lead_id__in=lead_ids)
        return len(await query.distinct().values_list("lead_id", flat=True))

    async def leads_at_stage(stage: Stage) -> int:
        return len(await leads_at(stage, lead_ids, since=since, until=until))

    applications = Application.all()
    if lead_ids is not None:
        users = await LeadEntry.filter(id__in=lead_ids, user_id__not_isnull=True).values_list(
            "user_id", flat=True
        )
        applications = applications.filter(user_id__in=list(users))
    applied = applications.filter(created_at__lt=until)
    approved = applications.filter(status=Review.APPROVED, decided_at__lt=until)
    if since is not None:
        applied = applied.filter(created_at__gte=since)
        approved = approved.filter(decided_at__gte=since)

    return FunnelStats(
        new_by_source=new_by_source,
        bound=await leads_with("core_lead_bound"),
        registered=await leads_at_stage(Stage.REGISTERED),
        attended=await leads_at_stage(Stage.ATTENDED),
        applied=await applied.count(),
        approved=await approved.count(),
    )
