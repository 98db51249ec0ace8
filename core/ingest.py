"""`core_ingest_event`: the one Core command through which every contact becomes a lead.

Submissions that arrive together are ingested together (`hub.grouped`): one transaction,
one look-up of everyone already known, one INSERT each for the new leads, the touches
and the events, one commit. Each submission is still answered only after that commit.
On a 2-core machine this is what takes the form from ~200 to over 1,000 leads per second
on SQLite with synchronous=FULL (docs/performance.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from core import metrics
from core.bulk import insert_rows
from core.clock import Clock
from core.contact import Contact
from core.events import CoreIngestEvent, CoreLeadBound, CoreLeadCreated, Event
from core.hub import Publisher, SignalHub
from core.webinars import Registration, register_many
from models import LeadEntry, LeadTouch, Role, User

LEAD_CREATED_VIA = "core_ingest"
# What a touch needs to know of a lead it did not create.
_KNOWN_FIELDS = (
    "id",
    "name",
    "phone",
    "email",
    "tz",
    "user_id",
    "lead_source",
    "partner_id",
    "ref",
    "locale",
)


@dataclass(frozen=True)
class IngestResult:
    lead_id: int
    created: bool
    # The personal deep-link payload for this touch: `/start <start_token>`.
    start_token: str


def new_start_token() -> str:
    """32 characters of A-Za-z0-9_- (Telegram allows 64): unguessable, URL- and /start-safe."""
    return secrets.token_urlsafe(24)


async def core_ingest_event(
    hub: SignalHub, clock: Clock, contact: Contact, *, telegram_user: User | None = None
) -> IngestResult:
    """Create the `lead_entry` for `contact`, or record a touch of the one it matches;
    emit `core_lead_created` if new.

    The same person (same E.164 phone, same e-mail, or — from the bot — the same Telegram
    user) is the same lead: `first_touch_at` and the first-touch attribution never change;
    each touch is recorded with what it brought. Knowing a phone or an e-mail proves
    nothing, so a touch that matched by them changes nothing on the lead: its data stays
    on the touch, and its link binds only once the person proves the lead's phone
    (`handlers/binding.py`). A lead created from the bot is bound to that user's chat.
    """
    job = _Job(contact, telegram_user, clock)
    for attempt in range(3):
        try:
            result = await hub.grouped(_ingest_batch, job)
            outcome = "created" if result.created else "matched"
            metrics.INGESTS.labels(contact.source, outcome).inc()
            return result
        except IntegrityError:
            # Another process created this person between our look-up and insert
            # (PostgreSQL; SQLite serialises writers). Go again: now it's an update.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _Job:
    contact: Contact
    telegram_user: User | None
    clock: Clock


@dataclass
class _Lead:
    """A lead as this batch sees it: `row` holds its fields, `changed` what to UPDATE."""

    row: dict[str, Any]
    new: bool
    changed: set[str] = field(default_factory=set)


def _keys(contact: Contact, user: User | None) -> list[tuple[str, object]]:
    # In matching order: a phone match wins over an e-mail match (phones are what the
    # form requires); the Telegram user counts only for contacts from the bot.
    keys: list[tuple[str, object]] = []
    if contact.phone:
        keys.append(("phone", contact.phone))
    if contact.email:
        keys.append(("email", contact.email))
    if user is not None:
        keys.append(("user_id", user.id))
    return keys


async def _ingest_batch(tx: Publisher, jobs: list[_Job]) -> list[IngestResult]:
    """Ingest `jobs` in order in `tx`: a person twice in one batch is created, then touched."""
    db = tx.connection
    known = await _known_leads(jobs, db)
    partners = await _partners({j.contact.ref for j in jobs if j.contact.ref}, db)
    plan: list[tuple[_Job, _Lead, str | None]] = []
    for job in jobs:
        keys = _keys(job.contact, job.telegram_user)
        matched_by, lead = next(((k[0], known[k]) for k in keys if k in known), (None, None))
        if lead is None:
            lead = _new_lead(job, partners.get(job.contact.ref or ""))
        elif matched_by == "user_id":
            # The lead's own Telegram account (Telegram vouches for it): proven.
            _fill_in(lead, job.contact, known, job.clock)
        _index(lead, known)
        plan.append((job, lead, matched_by))

    fresh = [lead for _, lead, matched_by in plan if matched_by is None]
    ids = await insert_rows(db, LeadEntry, [lead.row for lead in fresh])
    for lead, lead_id in zip(fresh, ids, strict=True):
        lead.row["id"] = lead_id
    for lead in {id(lead): lead for _, lead, _ in plan if lead.changed}.values():
        changes = {name: lead.row[name] for name in lead.changed}
        await LeadEntry.filter(id=lead.row["id"]).using_db(db).update(**changes)

    results, touches, events = [], [], []
    for job, lead, matched_by in plan:
        token = new_start_token()
        created = matched_by is None
        touches.append(_touch(job, lead.row["id"], token, matched_by))
        events += _events(job, lead.row, created)
        results.append(IngestResult(lead_id=lead.row["id"], created=created, start_token=token))
    await insert_rows(db, LeadTouch, touches, returning_ids=False)
    await tx.publish_many(events)
    # After the lead's own events: client_webinar_registered follows core_lead_created.
    await register_many(tx, plan[0][0].clock, _registrations(plan))
    return results


def _registrations(plan: list[tuple[_Job, _Lead, str | None]]) -> list[Registration]:
    """The webinar each submission names (the entry point checked it is open)."""
    return [
        Registration(int(job.contact.webinar_id), lead.row["id"], job.contact.source)
        for job, lead, _ in plan
        if job.contact.webinar_id and job.contact.webinar_id.isdigit()
    ]


async def _known_leads(jobs: list[_Job], db: BaseDBAsyncClient) -> dict[tuple[str, object], _Lead]:
    """Every existing lead any job of the batch could be, by phone, e-mail and user."""
    wanted: dict[str, set[Any]] = {"phone": set(), "email": set(), "user_id": set()}
    for job in jobs:
        for kind, value in _keys(job.contact, job.telegram_user):
            wanted[kind].add(value)
    lookups = [
        Q(phone__in=sorted(wanted["phone"])),
        Q(email__in=sorted(wanted["email"])),
        Q(user_id__in=sorted(wanted["user_id"])),
    ]
    query = Q(*(q for q, values in zip(lookups, wanted.values(), strict=True) if values))
    query.join_type = Q.OR
    if not query.children:
        return {}
    rows = await LeadEntry.filter(query).using_db(db).order_by("id").values(*_KNOWN_FIELDS)
    known: dict[tuple[str, object], _Lead] = {}
    for row in rows:
        _index(_Lead(row=dict(row), new=False), known)
    return known


def _index(lead: _Lead, known: dict[tuple[str, object], _Lead]) -> None:
    # By what the lead has (not what a contact brought): the oldest lead keeps a key.
    for kind in ("phone", "email", "user_id"):
        if lead.row.get(kind) is not None:
            known.setdefault((kind, lead.row[kind]), lead)


async def _partners(refs: set[str], db: BaseDBAsyncClient) -> dict[str, int]:
    """ref code → the partner it attributes to (a code of someone below partner: nobody)."""
    if not refs:
        return {}
    users = await User.filter(ref_code__in=list(refs)).using_db(db).values("id", "ref_code", "role")
    return {u["ref_code"]: u["id"] for u in users if Role(u["role"]).at_least(Role.PARTNER)}


def _new_lead(job: _Job, partner_id: int | None) -> _Lead:
    c, user, now = job.contact, job.telegram_user, int(job.clock.now())
    return _Lead(
        row={
            "name": c.name,
            "phone": c.phone,
            "email": c.email,
            "lead_source": c.source,
            "first_touch_at": now,
            "lead_created_at": now,
            "lead_created_via": LEAD_CREATED_VIA,
            "ref": c.ref,
            "partner_id": partner_id,
            "utm": c.utm,
            "tz": c.tz,
            "locale": c.locale,
            "consent_at": now,
            "user_id": user.id if user else None,
            "chat_id": user.chat_id if user else None,
            "updated_at": job.clock.now(),
        },
        new=True,
    )


def _fill_in(
    lead: _Lead, contact: Contact, known: dict[tuple[str, object], _Lead], clock: Clock
) -> None:
    """Fill in what the lead lacked; never rewrite first-touch facts or steal a contact."""
    updates: dict[str, Any] = {"updated_at": clock.now()}
    if contact.name and not lead.row["name"]:
        updates["name"] = contact.name
    for kind in ("phone", "email"):
        value = getattr(contact, kind)
        # `known` holds every lead with any phone or e-mail of this batch: not there, not taken.
        if value and not lead.row[kind] and (kind, value) not in known:
            updates[kind] = value
    if contact.tz and not lead.row["tz"]:
        updates["tz"] = contact.tz
    if contact.locale and not lead.row["locale"]:
        updates["locale"] = contact.locale
    lead.row.update(updates)
    if not lead.new:  # a lead of this batch is inserted with its row as it ends up
        lead.changed.update(updates)


async def fill_in_from_proven_touch(
    db: BaseDBAsyncClient, clock: Clock, touch: LeadTouch, lead: LeadEntry
) -> None:
    """The person of `touch` has proven `lead` (its link now binds): what the touch
    brought fills what the lead lacks, as a touch of the lead's own account always did.

    Never rewrites a value, never takes a contact another lead has (run it in the
    binding's transaction).
    """
    updates: dict[str, Any] = {}
    for name in ("name", "tz", "locale"):
        if getattr(touch, name) and not getattr(lead, name):
            updates[name] = getattr(touch, name)
    for kind in ("phone", "email"):
        value = getattr(touch, kind)
        if not value or getattr(lead, kind):
            continue
        if not await LeadEntry.filter(**{kind: value}).using_db(db).exists():
            updates[kind] = value
    if updates:
        await LeadEntry.filter(id=lead.id).using_db(db).update(**updates, updated_at=clock.now())


def _touch(job: _Job, lead_id: int, token: str, matched_by: str | None) -> dict[str, Any]:
    c = job.contact
    return {
        "lead_id": lead_id,
        "matched_by": matched_by,
        "name": c.name,
        "phone": c.phone,
        "email": c.email,
        "locale": c.locale,
        "source": c.source,
        "ref": c.ref,
        "utm": c.utm,
        "tz": c.tz,
        "webinar_id": c.webinar_id,
        "start_token": token,
        "at": int(job.clock.now()),
    }


def _events(job: _Job, lead: dict[str, Any], created: bool) -> list[Event]:
    c, user, now = job.contact, job.telegram_user, int(job.clock.now())
    events: list[Event] = [
        CoreIngestEvent(
            timestamp=now,
            source=c.source,
            name=c.name,
            phone=c.phone,
            email=c.email,
            ref=c.ref,
            utm=c.utm,
            tz=c.tz,
            webinar_id=c.webinar_id,
            lead_id=lead["id"],
            created=created,
        )
    ]
    if created and user is not None and user.chat_id is not None:
        events.append(
            CoreLeadBound(
                timestamp=now,
                lead_id=lead["id"],
                user_id=user.id,
                telegram_id=user.telegram_id or 0,
                chat_id=user.chat_id,
            )
        )
    if created:
        events.append(
            CoreLeadCreated(
                timestamp=now,
                lead_id=lead["id"],
                lead_source=lead["lead_source"],
                partner_id=lead["partner_id"],
                ref=lead["ref"],
            )
        )
    return events
