"""A held webinar's figures: who registered, entered, attended, for how long, sent the form.

The post-webinar summaries (the speaker's, each partner's) read them here. Registrations
and entries come from `webinar_registration`; the classification, the minutes and the
form submissions from the event log (`client_webinar_attendance_classified`,
`client_webinar_form_submitted`), the one record of them. A lead classified twice (it
must not happen) counts once, with its latest classification.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from models import EventRecord, LeadEntry, WebinarRegistration

CLASSIFIED = "client_webinar_attendance_classified"
FORM_SUBMITTED = "client_webinar_form_submitted"


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
