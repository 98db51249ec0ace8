"""The partner CRM: a lead's status and notes, and the CSV export of the leads in scope.

Transport-independent: the bot's lead card and `/export` call these with the user who
pressed the button; the command line calls them as the system (`actor=None`). A user
actor is checked against `scope_of` here again, whatever the screen checked before: a
stale button or forged callback data must not change a lead outside the user's list.
Every change is stored together with its event in one transaction.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.actors import done_by
from core.clock import Clock
from core.events import CoreLeadNoteAdded, CoreLeadsExported, CoreLeadStatusSet
from core.hub import SignalHub
from core.present import person_name
from core.scope import LeadScope, Reach, scope_of
from core.visible import visible_text
from models import CrmStatus, LeadEntry, LeadNote, User

NOTE_LIMIT = 2000
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
CSV_COLUMNS = (
    "id",
    "name",
    "phone",
    "email",
    "source",
    "crm_status",
    "partner_telegram_id",
    "partner_name",
    "ref",
    *UTM_KEYS,
    "first_touch_at",
    "created_at",
    "in_telegram",
    "notes",
    "last_note",
)
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
E164 = re.compile(r"\+[1-9]\d{6,14}")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class OutOfScope(Exception):
    """The lead does not exist or is not in the actor's scope (the same answer for both)."""


class InvalidNote(ValueError):
    """A note that is empty or too long; the message says which."""


async def lead_for(actor: User | None, lead_id: int) -> LeadEntry:
    """The lead if `actor` (None: the system, which sees all) may see it; else OutOfScope."""
    if actor is None:
        lead = await LeadEntry.get_or_none(id=lead_id)
    else:
        lead = await (await scope_of(actor)).lead(lead_id)
    if lead is None:
        raise OutOfScope(lead_id)
    return lead


async def set_status(
    hub: SignalHub, clock: Clock, lead_id: int, status: CrmStatus, *, actor: User | None
) -> tuple[LeadEntry, bool]:
    """Set the lead's CRM status; returns the lead and whether anything changed.

    Setting the status it already has stores nothing and publishes nothing.
    """
    lead = await lead_for(actor, lead_id)
    async with hub.transaction() as tx:
        previous = CrmStatus(lead.crm_status)
        if previous is status:
            return lead, False
        now = clock.now()
        await (
            LeadEntry.filter(id=lead.id)
            .using_db(tx.connection)
            .update(crm_status=status, updated_at=now)
        )
        await tx.publish(
            CoreLeadStatusSet(
                timestamp=int(now),
                lead_id=lead.id,
                status=status.value,
                previous_status=previous.value,
                **done_by(actor),
            )
        )
    lead.crm_status = status
    lead.updated_at = now
    return lead, True


def clean_note(text: str) -> str:
    note = visible_text(text)
    if not note:
        raise InvalidNote("the note is empty")
    if len(note) > NOTE_LIMIT:
        raise InvalidNote(f"the note is longer than {NOTE_LIMIT} characters")
    return note


async def add_note(
    hub: SignalHub, clock: Clock, lead_id: int, text: str, *, actor: User | None
) -> LeadNote:
    """Add a note (stripped, 1..NOTE_LIMIT characters) to the lead's card."""
    note_text = clean_note(text)
    lead = await lead_for(actor, lead_id)
    async with hub.transaction() as tx:
        now = clock.now()
        note = await LeadNote.create(
            lead_id=lead.id,
            author_id=actor.id if actor else None,
            text=note_text,
            at=now,
            using_db=tx.connection,
        )
        await tx.publish(
            CoreLeadNoteAdded(
                timestamp=int(now),
                lead_id=lead.id,
                note_id=note.id,
                text=note_text,
                **done_by(actor),
            )
        )
    return note


def _safe(value: object) -> str:
    text = "" if value is None else str(value)
    if E164.fullmatch(text):  # a stored phone number: digits only, cannot be a formula
        return text
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def leads_csv(leads: Sequence[LeadEntry], timezone: str) -> bytes:
    """The leads as CSV for a spreadsheet: UTF-8 with a BOM (Excel then reads Cyrillic),
    times in `timezone`, and no cell that a spreadsheet would run as a formula."""
    zone = ZoneInfo(timezone)
    partner_ids = {lead.partner_id for lead in leads if lead.partner_id is not None}
    partners = {u.id: u for u in await User.filter(id__in=sorted(partner_ids))}
    notes: dict[int, list[LeadNote]] = {}
    lead_ids = [lead.id for lead in leads]
    for note in await LeadNote.filter(lead_id__in=lead_ids).order_by("at", "id"):
        notes.setdefault(note.lead_id, []).append(note)

    def when(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).astimezone(zone).isoformat(timespec="seconds")

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for lead in leads:
        partner = partners.get(lead.partner_id) if lead.partner_id else None
        lead_notes = notes.get(lead.id, [])
        row = [
            lead.id,
            lead.name,
            lead.phone or "",
            lead.email or "",
            lead.lead_source,
            CrmStatus(lead.crm_status).value,
            partner.telegram_id if partner and partner.telegram_id else "",
            person_name(partner) if partner else "",
            lead.ref or "",
            *(lead.utm.get(key, "") for key in UTM_KEYS),
            when(lead.first_touch_at),
            when(lead.lead_created_at),
            "yes" if lead.chat_id else "no",
            len(lead_notes),
            lead_notes[-1].text if lead_notes else "",
        ]
        writer.writerow([_safe(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def export_leads(
    hub: SignalHub,
    clock: Clock,
    leads: Sequence[LeadEntry],
    *,
    reach: Reach,
    timezone: str,
    actor: User | None,
) -> bytes:
    """The CSV of `leads` (already chosen from the actor's scope); records the export."""
    data = await leads_csv(leads, timezone)
    await record_export(hub, clock, len(leads), reach=reach, actor=actor)
    return data


async def record_export(
    hub: SignalHub, clock: Clock, count: int, *, reach: Reach, actor: User | None
) -> None:
    """Publish `core_leads_exported`: who took how many leads out, from which scope."""
    await hub.publish(
        CoreLeadsExported(
            timestamp=int(clock.now()),
            count=count,
            scope=reach.value,
            **done_by(actor),
        )
    )


async def scope_for(actor: User | None) -> LeadScope:
    """The actor's scope; the system (None) sees every lead."""
    return LeadScope(Reach.ALL) if actor is None else await scope_of(actor)
