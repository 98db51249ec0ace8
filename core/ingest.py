"""`core_ingest_event`: the one Core command through which every contact becomes a lead."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from core.clock import Clock
from core.contact import Contact
from core.events import CoreIngestEvent, CoreLeadBound, CoreLeadCreated
from core.hub import Publisher, SignalHub
from models import LeadEntry, LeadTouch, Role, User

LEAD_CREATED_VIA = "core_ingest"


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
    """Create or update the `lead_entry` for `contact`; emit `core_lead_created` if new.

    The same person (same E.164 phone, same e-mail, or — from the bot — the same Telegram
    user) is the same lead: `first_touch_at` and the first-touch attribution never change;
    each touch is recorded. A lead created from the bot is bound to that user's chat.
    """
    for attempt in range(3):
        try:
            async with hub.transaction() as tx:
                return await _ingest(tx, clock, contact, telegram_user)
        except IntegrityError:
            # Another request created this person between our look-up and insert
            # (PostgreSQL; SQLite serialises transactions). Go again: now it's an update.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _ingest(
    tx: Publisher, clock: Clock, contact: Contact, telegram_user: User | None
) -> IngestResult:
    db = tx.connection
    now = int(clock.now())
    lead = await _find(contact, db)
    if lead is None and telegram_user is not None:
        lead = await LeadEntry.filter(user_id=telegram_user.id).using_db(db).first()
    created = lead is None
    if lead is None:
        partner = await _partner_for(contact.ref, db)
        lead = await LeadEntry.create(
            name=contact.name,
            phone=contact.phone,
            email=contact.email,
            lead_source=contact.source,
            first_touch_at=now,
            lead_created_at=now,
            lead_created_via=LEAD_CREATED_VIA,
            ref=contact.ref,
            partner=partner,
            utm=contact.utm,
            tz=contact.tz,
            consent_at=now,
            user=telegram_user,
            chat_id=telegram_user.chat_id if telegram_user else None,
            updated_at=clock.now(),
            using_db=db,
        )
    else:
        await _update(lead, contact, db, clock)

    token = new_start_token()
    await LeadTouch.create(
        lead=lead,
        source=contact.source,
        ref=contact.ref,
        utm=contact.utm,
        tz=contact.tz,
        webinar_id=contact.webinar_id,
        start_token=token,
        at=now,
        using_db=db,
    )
    await tx.publish(
        CoreIngestEvent(
            timestamp=now,
            source=contact.source,
            name=contact.name,
            phone=contact.phone,
            email=contact.email,
            ref=contact.ref,
            utm=contact.utm,
            tz=contact.tz,
            webinar_id=contact.webinar_id,
            lead_id=lead.id,
            created=created,
        )
    )
    if created and telegram_user is not None and telegram_user.chat_id is not None:
        await tx.publish(
            CoreLeadBound(
                timestamp=now,
                lead_id=lead.id,
                user_id=telegram_user.id,
                telegram_id=telegram_user.telegram_id or 0,
                chat_id=telegram_user.chat_id,
            )
        )
    if created:
        await tx.publish(
            CoreLeadCreated(
                timestamp=now,
                lead_id=lead.id,
                lead_source=lead.lead_source,
                partner_id=lead.partner_id,
                ref=lead.ref,
            )
        )
    return IngestResult(lead_id=lead.id, created=created, start_token=token)


async def _find(contact: Contact, db: object) -> LeadEntry | None:
    query = Q()
    if contact.phone:
        query |= Q(phone=contact.phone)
    if contact.email:
        query |= Q(email=contact.email)
    if not query.children:
        return None
    matches = await LeadEntry.filter(query).using_db(db).limit(2)  # type: ignore[arg-type]
    # A phone match wins over an e-mail match: phones are what the form requires.
    matches.sort(key=lambda lead: lead.phone != contact.phone)
    return matches[0] if matches else None


async def _update(lead: LeadEntry, contact: Contact, db: object, clock: Clock) -> None:
    """Fill in what the lead lacked; never rewrite first-touch facts or steal a contact."""
    changed = ["updated_at"]
    if contact.name and not lead.name:
        lead.name = contact.name
        changed.append("name")
    for attr in ("phone", "email"):
        value = getattr(contact, attr)
        if value and not getattr(lead, attr):
            taken = await LeadEntry.filter(**{attr: value}).using_db(db).exists()  # type: ignore[arg-type]
            if not taken:
                setattr(lead, attr, value)
                changed.append(attr)
    if contact.tz and not lead.tz:
        lead.tz = contact.tz
        changed.append("tz")
    lead.updated_at = clock.now()
    await lead.save(update_fields=changed, using_db=db)  # type: ignore[arg-type]


async def _partner_for(ref: str | None, db: object) -> User | None:
    if not ref:
        return None
    user = await User.filter(ref_code=ref).using_db(db).first()  # type: ignore[arg-type]
    if user is None or not user.role.at_least(Role.PARTNER):
        return None
    return user
