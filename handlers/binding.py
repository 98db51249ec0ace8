"""Use cases of a person opening the bot: who they are, and which lead is theirs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from tortoise.backends.base.client import BaseDBAsyncClient

from core.clock import Clock
from core.contact import Contact
from core.events import CoreLeadBound
from core.hub import SignalHub
from core.ingest import core_ingest_event
from core.settings import Settings
from models import LeadEntry, LeadTouch, Role, User

REF_PREFIX = "ref_"


@dataclass(frozen=True)
class TelegramPerson:
    """The Telegram user behind an update, as the bot saw them."""

    telegram_id: int
    chat_id: int
    first_name: str = ""
    last_name: str = ""
    username: str | None = None
    language_code: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Bind(StrEnum):
    BOUND = "bound"  # this chat now receives the lead's messages
    ALREADY_YOURS = "already_yours"  # the same account opened the link again
    OTHER_ACCOUNT = "other_account"  # the lead belongs to another Telegram account
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # forged, mistyped, or not ours at all


@dataclass(frozen=True)
class BindResult:
    outcome: Bind
    lead_id: int | None = None
    partner_name: str | None = None


async def upsert_user(clock: Clock, settings: Settings, person: TelegramPerson) -> User:
    """The user for this Telegram account, created as a candidate on first contact.

    `ADMIN_IDS` are admins from their first message; a role set in advance (the CLI may
    set a role for an id that has not opened the bot yet) is kept.
    """
    now = clock.now()
    user = await User.get_or_none(telegram_id=person.telegram_id)
    if user is None:
        user, _ = await User.get_or_create(
            telegram_id=person.telegram_id,
            defaults={"created_at": now, "updated_at": now, "role": Role.CANDIDATE},
        )
    user.first_name = person.first_name[:128]
    user.last_name = person.last_name[:128]
    user.username = person.username
    user.language_code = person.language_code
    user.chat_id = person.chat_id
    if person.telegram_id in settings.admin_ids:
        user.role = Role.ADMIN
    user.updated_at = now
    await user.save()
    return user


OnBound = Callable[[BaseDBAsyncClient, LeadEntry], Awaitable[None]]


async def bind_start_token(
    hub: SignalHub,
    clock: Clock,
    settings: Settings,
    token: str,
    user: User,
    on_bound: OnBound | None = None,
) -> BindResult:
    """`/start <token>` from the thank-you page: bind that lead to this user's chat.

    `on_bound` runs inside the binding's transaction: the answer it queues there is ahead
    of anything the binding's consumers send (the welcome), whatever the timing.
    """
    touch = await LeadTouch.get_or_none(start_token=token).prefetch_related("lead")
    if touch is None:
        return BindResult(Bind.UNKNOWN)
    lead: LeadEntry = touch.lead
    if lead.user_id is not None:
        if lead.user_id == user.id:
            return BindResult(Bind.ALREADY_YOURS, lead.id)
        return BindResult(Bind.OTHER_ACCOUNT)
    if clock.now() - touch.at > settings.start_token_ttl_seconds:
        return BindResult(Bind.EXPIRED)
    async with hub.transaction() as tx:
        # Only an unbound lead is taken: two accounts racing for one link, one wins.
        taken = (
            await LeadEntry.filter(id=lead.id, user_id=None)
            .using_db(tx.connection)
            .update(user_id=user.id, chat_id=user.chat_id, updated_at=clock.now())
        )
        if not taken:
            return BindResult(Bind.OTHER_ACCOUNT)
        await tx.publish(
            CoreLeadBound(
                timestamp=int(clock.now()),
                lead_id=lead.id,
                user_id=user.id,
                telegram_id=user.telegram_id or 0,
                chat_id=user.chat_id or 0,
            )
        )
        if on_bound is not None:
            await on_bound(tx.connection, lead)
    return BindResult(Bind.BOUND, lead.id, await _partner_name(lead))


async def ingest_telegram_referral(
    hub: SignalHub, clock: Clock, code: str, user: User, person: TelegramPerson
) -> BindResult:
    """`/start ref_<code>`: a partner's Telegram link creates (or touches) this user's lead."""
    contact = Contact(
        source="telegram",
        name=person.full_name[:200],
        phone=None,
        email=None,
        ref=code,
        tz=None,
        webinar_id=None,
        utm={},
    )
    # The lead is found by this Telegram user (or created bound to their chat).
    result = await core_ingest_event(hub, clock, contact, telegram_user=user)
    lead = await LeadEntry.get(id=result.lead_id)
    return BindResult(Bind.BOUND, lead.id, await _partner_name(lead))


async def _partner_name(lead: LeadEntry) -> str | None:
    if lead.partner_id is None:
        return None
    partner = await User.get_or_none(id=lead.partner_id)
    if partner is None:
        return None
    # The approved display name is what leads see; until there is one, the Telegram name.
    return partner.display_name or partner.first_name
