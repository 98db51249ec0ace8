"""Who registered for, entered and attended which webinar: the one definition of each,
and one held webinar's figures (registered, entered, attended, minutes, forms).

Every count and list of webinar participation asks this module — the partner's funnel
(`core/referrals.py`), `/stats` (`core/stats.py`), broadcast segments
(`core/broadcasts.py`) and the lead card — so "attended" means the same everywhere:

- registered: `client_webinar_registered` (stored with the `webinar_registration` row);
- entered: `client_webinar_entered` (the first entry through the personal link);
- attended / not attended: the latest `client_webinar_attendance_classified` of the lead
  for that webinar (the webinar's thresholds decided it; entering alone is not attending).

The facts are read from the event log rather than the tables: each stage is an event with
the time it happened, which is what the period counts need, and the classification has no
table of its own yet. The webinar issues fill this module, not its callers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from tortoise.expressions import Subquery

from models import EventRecord, LeadEntry, WebinarRegistration

REGISTERED = "client_webinar_registered"
ENTERED = "client_webinar_entered"
CLASSIFIED = "client_webinar_attendance_classified"
FORM_SUBMITTED = "client_webinar_form_submitted"


class Stage(StrEnum):
    REGISTERED = "registered"
    ENTERED = "entered"
    ATTENDED = "attended"
    NOT_ATTENDED = "not_attended"


# The verdicts a classification gives (the broadcast segments offer these).
VERDICTS: tuple[Stage, ...] = (Stage.ATTENDED, Stage.NOT_ATTENDED)
_EVENT = {Stage.REGISTERED: REGISTERED, Stage.ENTERED: ENTERED}

LeadIds = Subquery | Iterable[int] | None


def _webinar_of(record_webinar: str | None, payload: object) -> str:
    from_payload = payload.get("webinar_id") if isinstance(payload, dict) else None
    return str(from_payload or record_webinar or "")


async def leads_at(
    stage: Stage,
    lead_ids: LeadIds = None,
    *,
    since: float | None = None,
    until: float | None = None,
    webinar_id: int | str | None = None,
) -> set[int]:
    """The leads (of `lead_ids`; every lead when None) that reached `stage` in any webinar
    (or in `webinar_id`), with the fact recorded in `[since, until)` when given. Each lead
    once."""
    name = _EVENT.get(stage, CLASSIFIED)
    query = EventRecord.filter(name=name, lead_id__not_isnull=True)
    if webinar_id is not None:
        query = query.filter(webinar_id=str(webinar_id))
    if lead_ids is not None:
        ids = lead_ids if isinstance(lead_ids, Subquery) else list(lead_ids)
        query = query.filter(lead_id__in=ids)
    if since is not None:
        query = query.filter(created_at__gte=since)
    if until is not None:
        query = query.filter(created_at__lt=until)
    if stage in _EVENT:
        return {int(lead) for (lead,) in await query.distinct().values_list("lead_id")}
    # A classification may be repeated (a re-run): the latest for each webinar decides.
    verdicts: dict[tuple[int, str], str] = {}
    rows = await query.order_by("id").values_list("lead_id", "webinar_id", "payload")
    for lead, webinar, payload in rows:
        verdict = payload.get("attendance") if isinstance(payload, dict) else None
        verdicts[(int(lead), _webinar_of(webinar, payload))] = str(verdict)
    return {lead for (lead, _), verdict in verdicts.items() if verdict == stage.value}


@dataclass
class Participation:
    """One lead and one webinar: what they did, in the order of the stages."""

    webinar_id: str
    registered: bool = False
    entered: bool = False
    verdict: Stage | None = None  # attended / not_attended, once classified

    @property
    def stages(self) -> list[Stage]:
        done = [Stage.REGISTERED] if self.registered else []
        done += [Stage.ENTERED] if self.entered else []
        return done + ([self.verdict] if self.verdict else [])


async def history_of(lead_id: int) -> list[Participation]:
    """The lead's webinars, in the order they first appear, with each one's stages."""
    rows = (
        await EventRecord.filter(lead_id=lead_id, name__in=(REGISTERED, ENTERED, CLASSIFIED))
        .order_by("id")
        .values_list("name", "webinar_id", "payload")
    )
    found: dict[str, Participation] = {}
    for name, webinar, payload in rows:
        key = _webinar_of(webinar, payload)
        entry = found.setdefault(key, Participation(key))
        if name == REGISTERED:
            entry.registered = True
        elif name == ENTERED:
            entry.entered = True
        else:
            verdict = payload.get("attendance") if isinstance(payload, dict) else None
            entry.verdict = Stage(verdict) if verdict in VERDICTS else entry.verdict
    return list(found.values())


# ---- one held webinar's figures (the post-webinar summaries) ------------------------------
# Registrations and entries from `webinar_registration` (written with their events), the
# classification and its minutes and the form submissions from the event log.


@dataclass(frozen=True)
class LeadResult:
    lead_id: int
    name: str
    partner_id: int | None
    entered: bool
    attendance: str | None  # "attended" | "not_attended" | None: not classified (yet)
    seconds: int


@dataclass(frozen=True)
class WebinarFigures:
    registered: int = 0
    entered: int = 0
    attended: int = 0
    not_attended: int = 0
    # The mean time in the room of those who were there at all (entered or present).
    average_minutes: int = 0
    forms: int = 0
    leads: tuple[LeadResult, ...] = field(default_factory=tuple)


async def classification_complete(webinar_id: int) -> bool:
    """Every registrant of the webinar has been classified."""
    registered = await WebinarRegistration.filter(webinar_id=webinar_id).count()
    # A count, not the payloads: this runs once per classified lead (index name, webinar_id).
    classified = await EventRecord.filter(name=CLASSIFIED, webinar_id=str(webinar_id)).count()
    return registered > 0 and classified >= registered


async def results(webinar_id: int) -> list[LeadResult]:
    """Each registrant's result, in registration order."""
    regs = await WebinarRegistration.filter(webinar_id=webinar_id).order_by("id")
    leads = {
        lead.id: lead
        for lead in await LeadEntry.filter(id__in=[r.lead_id for r in regs]).only(
            "id", "name", "partner_id"
        )
    }
    classified = await _classified(webinar_id)
    out = []
    for reg in regs:
        lead = leads.get(reg.lead_id)
        if lead is None:
            continue
        attendance, seconds = classified.get(reg.lead_id, (None, 0))
        out.append(
            LeadResult(
                lead.id, lead.name, lead.partner_id, reg.entered_at is not None, attendance, seconds
            )
        )
    return out


async def figures(webinar_id: int, of: Iterable[LeadResult]) -> WebinarFigures:
    """The figures over `of` (every registrant, or one partner's leads)."""
    chosen = tuple(of)
    ids = {r.lead_id for r in chosen}
    forms = await EventRecord.filter(
        name=FORM_SUBMITTED, webinar_id=str(webinar_id), lead_id__in=sorted(ids)
    ).values_list("lead_id", flat=True)
    present = [r.seconds for r in chosen if r.entered or r.seconds > 0]
    return WebinarFigures(
        registered=len(chosen),
        entered=sum(1 for r in chosen if r.entered),
        attended=sum(1 for r in chosen if r.attendance == "attended"),
        not_attended=sum(1 for r in chosen if r.attendance == "not_attended"),
        average_minutes=round(sum(present) / len(present) / 60) if present else 0,
        forms=len(set(cast("list[int]", forms))),
        leads=chosen,
    )


async def _classified(webinar_id: int) -> dict[int, tuple[str, int]]:
    rows = (
        await EventRecord.filter(name=CLASSIFIED, webinar_id=str(webinar_id))
        .order_by("id")
        .values_list("lead_id", "payload")
    )
    out: dict[int, tuple[str, int]] = {}
    for lead_id, payload in rows:
        if lead_id is not None and isinstance(payload, dict):
            out[int(lead_id)] = (str(payload.get("attendance")), _seconds(payload))
    return out


def _seconds(payload: dict[str, Any]) -> int:
    try:
        return max(0, int(payload.get("seconds_present") or 0))
    except (TypeError, ValueError):
        return 0
