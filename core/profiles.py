"""What leads see of a partner (display name, photo): changed by the partner, shown only
once a user with `approve_profiles` approved it.

A newer pending change of the same field replaces the older one (its review buttons then
say so); a decision is made once, like an application's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.actors import done_by
from core.clock import Clock
from core.events import CoreProfileChangeDecided, CoreProfileChangeRequested
from core.hub import SignalHub
from core.roles import Capability, capabilities_of
from core.users import NotAllowed
from core.visible import visible_line
from models import ProfileChange, Review, User

NAME_LIMIT = 64


class Field(StrEnum):
    NAME = "name"
    PHOTO = "photo"


class BadName(ValueError):
    """A display name must be 1–64 characters of visible text."""


@dataclass(frozen=True)
class ChangeDecision:
    change: ProfileChange
    changed: bool  # False: decided before (or replaced); `change` tells how and by whom

    @property
    def approved(self) -> bool:
        return self.change.status == Review.APPROVED


def clean_name(value: str) -> str:
    name = visible_line(value)
    if not 1 <= len(name) <= NAME_LIMIT:
        raise BadName(value)
    return name


async def request_change(
    hub: SignalHub, clock: Clock, user: User, field: Field, value: str
) -> ProfileChange:
    """Store a pending change of `field` (for a name, `clean_name` first); needs
    `leads_view_own` (partners and above: whoever leads see)."""
    if Capability.LEADS_VIEW_OWN not in await capabilities_of(user):
        raise NotAllowed(Capability.LEADS_VIEW_OWN)
    if field is Field.NAME:
        value = clean_name(value)
    async with hub.transaction() as tx:
        conn = tx.connection
        await (
            ProfileChange.filter(user_id=user.id, field=field.value, status=Review.PENDING)
            .using_db(conn)
            .delete()
        )
        change = await ProfileChange.create(
            user_id=user.id,
            field=field.value,
            value=value[:256],
            created_at=clock.now(),
            using_db=conn,
        )
        await tx.publish(
            CoreProfileChangeRequested(
                timestamp=int(clock.now()), change_id=change.id, user_id=user.id, field=field.value
            )
        )
    return change


async def decide_change(
    hub: SignalHub, clock: Clock, change_id: int, approve: bool, *, actor: User | None
) -> ChangeDecision | None:
    """Approve (leads see it from now on) or reject a change; None when it was replaced
    by a newer one. Raises `NotAllowed` without `approve_profiles`."""
    if actor is not None and Capability.APPROVE_PROFILES not in await capabilities_of(actor):
        raise NotAllowed(Capability.APPROVE_PROFILES)
    async with hub.transaction() as tx:
        conn = tx.connection
        change = await ProfileChange.filter(id=change_id).using_db(conn).select_for_update().first()
        if change is None:
            return None
        if change.status != Review.PENDING:
            return ChangeDecision(change, changed=False)
        now = clock.now()
        if approve:
            column = "display_name" if change.field == Field.NAME else "photo_file_id"
            await (
                User.filter(id=change.user_id)
                .using_db(conn)
                .update(**{column: change.value, "updated_at": now})
            )
        change.status = Review.APPROVED if approve else Review.REJECTED
        change.decided_at = now
        change.decided_by_id = actor.id if actor else None
        await change.save(using_db=conn, update_fields=["status", "decided_at", "decided_by_id"])
        await tx.publish(
            CoreProfileChangeDecided(
                timestamp=int(now),
                change_id=change.id,
                user_id=change.user_id,
                field=change.field,
                decision=change.status.value,
                **done_by(actor),
            )
        )
    return ChangeDecision(change, changed=True)


async def pending_changes(user: User) -> list[ProfileChange]:
    return await ProfileChange.filter(user_id=user.id, status=Review.PENDING).order_by("id")
