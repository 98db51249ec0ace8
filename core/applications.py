"""Candidate → partner: applying, and the decision of a user with `approve_users`.

Transport-independent: the bot's `/apply` calls `apply(..., via="bot")`, the webinar room's
form will call `apply(..., via="room")`; the approval buttons call `decide`. Each change
is stored together with its event in one transaction. A decision is made once: a second
press (or a second approver) gets the first decision back and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tortoise.backends.base.client import BaseDBAsyncClient

from core.actors import done_by
from core.clock import Clock
from core.events import CoreUserApplicationDecided, CoreUserApplied
from core.hub import SignalHub
from core.referrals import new_ref_code
from core.roles import Capability, capabilities_of, holders_of
from core.users import NotAllowed
from core.visible import visible_text
from models import Application, CrmStatus, LeadEntry, Review, Role, User

TEXT_LIMIT = 1000


class Applied(StrEnum):
    APPLIED = "applied"  # stored now; the approvers are told
    PENDING = "pending"  # an earlier application still waits: nothing new stored
    ALREADY_PARTNER = "already_partner"  # partner or above: nothing to apply for


@dataclass(frozen=True)
class ApplyResult:
    outcome: Applied
    application_id: int | None = None


@dataclass(frozen=True)
class Decision:
    application: Application
    # False when it had been decided before: `application` tells by whom and how.
    changed: bool

    @property
    def approved(self) -> bool:
        return self.application.status == Review.APPROVED


async def lead_of(user: User, connection: BaseDBAsyncClient | None = None) -> LeadEntry | None:
    """The lead this user is (their first one, if several were bound to them)."""
    query = LeadEntry.filter(user_id=user.id).order_by("id")
    if connection is not None:
        query = query.using_db(connection)
    return await query.first()


async def _locked_user(connection: BaseDBAsyncClient, user_id: int) -> User:
    # The row lock serialises two updates of one user on PostgreSQL (SQLite runs one
    # transaction at a time anyway and ignores it).
    return await User.filter(id=user_id).using_db(connection).select_for_update().get()


async def apply(
    hub: SignalHub, clock: Clock, user: User, *, via: str = "bot", text: str = ""
) -> ApplyResult:
    """`user` asks to become a partner: one pending application per user."""
    async with hub.transaction() as tx:
        conn = tx.connection
        fresh = await _locked_user(conn, user.id)
        if Role(fresh.role).at_least(Role.PARTNER):
            return ApplyResult(Applied.ALREADY_PARTNER)
        pending = (
            await Application.filter(user_id=user.id, status=Review.PENDING)
            .using_db(conn)
            .order_by("id")
            .first()
        )
        if pending is not None:
            return ApplyResult(Applied.PENDING, pending.id)
        application = await Application.create(
            user_id=user.id,
            via=via[:16],
            text=visible_text(text)[:TEXT_LIMIT],
            created_at=clock.now(),
            using_db=conn,
        )
        lead = await lead_of(fresh, conn)
        if lead is not None and lead.crm_status in (CrmStatus.NEW, CrmStatus.IN_PROGRESS):
            await (
                LeadEntry.filter(id=lead.id)
                .using_db(conn)
                .update(crm_status=CrmStatus.APPLIED, updated_at=clock.now())
            )
        await tx.publish(
            CoreUserApplied(
                timestamp=int(clock.now()),
                application_id=application.id,
                user_id=user.id,
                telegram_id=fresh.telegram_id,
                via=application.via,
                lead_id=lead.id if lead else None,
            )
        )
    return ApplyResult(Applied.APPLIED, application.id)


async def decide(
    hub: SignalHub, clock: Clock, application_id: int, approve: bool, *, actor: User | None
) -> Decision:
    """Approve or reject an application (`approve_users`; `actor=None` is the system).

    Approval makes the user a partner (a higher role stays), gives them a referral code
    and puts them in the team of the partner whose lead they were. Raises `NotAllowed`
    without the capability and `LookupError` for an unknown application.
    """
    if actor is not None and Capability.APPROVE_USERS not in await capabilities_of(actor):
        raise NotAllowed(Capability.APPROVE_USERS)
    async with hub.transaction() as tx:
        conn = tx.connection
        application = (
            await Application.filter(id=application_id).using_db(conn).select_for_update().first()
        )
        if application is None:
            raise LookupError(f"no application {application_id}")
        if application.status != Review.PENDING:
            return Decision(application, changed=False)
        user = await _locked_user(conn, application.user_id)
        lead = await lead_of(user, conn)
        now = clock.now()
        if approve:
            if not Role(user.role).at_least(Role.PARTNER):
                user.role = Role.PARTNER
            if not user.ref_code:
                user.ref_code = await new_ref_code(conn)
            partner_id = lead.partner_id if lead is not None else None
            if user.referred_by_id is None and partner_id is not None and partner_id != user.id:
                user.referred_by_id = partner_id
            user.updated_at = now
            await user.save(
                using_db=conn, update_fields=["role", "ref_code", "referred_by_id", "updated_at"]
            )
        status = CrmStatus.PARTNER if approve else CrmStatus.REJECTED
        if lead is not None:
            await (
                LeadEntry.filter(id=lead.id)
                .using_db(conn)
                .update(crm_status=status, updated_at=now)
            )
        application.status = Review.APPROVED if approve else Review.REJECTED
        application.decided_at = now
        application.decided_by_id = actor.id if actor else None
        await application.save(
            using_db=conn, update_fields=["status", "decided_at", "decided_by_id"]
        )
        await tx.publish(
            CoreUserApplicationDecided(
                timestamp=int(now),
                application_id=application.id,
                user_id=user.id,
                telegram_id=user.telegram_id,
                decision=application.status.value,
                referred_by_id=user.referred_by_id,
                **done_by(actor),
            )
        )
    return Decision(application, changed=True)


async def reviewers(
    capability: Capability, admin_ids: Sequence[int]
) -> list[tuple[int, User | None]]:
    """(chat id, user) of everyone to ask for a review needing `capability`.

    The holders of the capability with a chat, and `ADMIN_IDS` who have not opened the bot
    yet (a private chat's id is the user's id); sorted by chat, each chat once.
    """
    chats: dict[int, User | None] = {
        u.chat_id: u for u in await holders_of(capability) if u.chat_id
    }
    # An admin who has written to the bot is a user like any other: their capabilities
    # decide (a withdrawal counts); one who has not is asked in their private chat.
    seen = User.filter(telegram_id__in=list(admin_ids), chat_id__not_isnull=True)
    known = {int(telegram_id) for (telegram_id,) in await seen.values_list("telegram_id")}
    for admin_id in admin_ids:
        if admin_id not in known:
            chats.setdefault(admin_id, None)
    return sorted(chats.items(), key=lambda item: item[0])


async def approvers(admin_ids: Sequence[int]) -> list[tuple[int, User | None]]:
    """Who may approve applications: `approve_users` holders with a chat, and `ADMIN_IDS`."""
    return await reviewers(Capability.APPROVE_USERS, admin_ids)
