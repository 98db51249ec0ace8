"""Whose leads a user may see: the one rule behind `/leads`, the lead card, `/export`
and `python main.py leads`.

`leads_view_all` sees every lead; `leads_view_team` sees the leads of everyone in the
user's team tree (the partners they brought in, the partners those brought in, …) as well
as their own; `leads_view_own` sees only the leads attributed to them. Nothing else sees a
lead, however its id was obtained.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tortoise.queryset import QuerySet

from core.roles import Capability, capabilities_of
from models import LeadEntry, User


class Reach(StrEnum):
    ALL = "all"
    TEAM = "team"
    OWN = "own"
    NONE = "none"


@dataclass(frozen=True)
class LeadScope:
    reach: Reach
    # The partners whose leads are in scope (unused for ALL and NONE).
    partner_ids: frozenset[int] = frozenset()

    def leads(self) -> QuerySet[LeadEntry]:
        """The leads in scope, newest first."""
        query = LeadEntry.all().order_by("-id")
        if self.reach is Reach.ALL:
            return query
        if self.reach is Reach.NONE or not self.partner_ids:
            return query.filter(id__in=[])
        return query.filter(partner_id__in=sorted(self.partner_ids))

    def covers(self, lead: LeadEntry) -> bool:
        if self.reach is Reach.ALL:
            return True
        return lead.partner_id is not None and lead.partner_id in self.partner_ids

    async def lead(self, lead_id: int) -> LeadEntry | None:
        """The lead with `lead_id` if it is in scope; None if missing or outside."""
        lead = await LeadEntry.get_or_none(id=lead_id)
        return lead if lead is not None and self.covers(lead) else None


async def team_of(user: User) -> set[int]:
    """The ids of everyone below `user` in the team tree (not `user` itself)."""
    team: set[int] = set()
    frontier = [user.id]
    while frontier:
        rows = await User.filter(referred_by_id__in=frontier).values_list("id", flat=True)
        below: list[int] = [int(i) for i in rows]  # type: ignore[call-overload]
        frontier = [i for i in below if i not in team and i != user.id]
        team.update(frontier)
    return team


async def scope_of(user: User) -> LeadScope:
    caps = await capabilities_of(user)
    if Capability.LEADS_VIEW_ALL in caps:
        return LeadScope(Reach.ALL)
    if Capability.LEADS_VIEW_TEAM in caps:
        return LeadScope(Reach.TEAM, frozenset({user.id} | await team_of(user)))
    if Capability.LEADS_VIEW_OWN in caps:
        return LeadScope(Reach.OWN, frozenset({user.id}))
    return LeadScope(Reach.NONE)
