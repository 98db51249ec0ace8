"""Use cases of a person opening the bot: who they are, and which lead is theirs.

Binding a lead to a Telegram account gives that account the lead's messages (its name,
its partner), so it needs proof, not knowledge: the link of the touch that created the
lead (handed only to that browser), the lead's own account, or Telegram's verified
phone number of this account equal to the lead's. A link of a touch that merely matched
an existing lead by a phone or an e-mail someone typed proves nothing by itself. The
rule is written down in docs/security.md ("Identity and binding").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from core.clock import Clock
from core.contact import Contact, telegram_phone
from core.events import CoreLeadBound
from core.hub import SignalHub
from core.ingest import core_ingest_event, fill_in_from_proven_touch
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
    # The link of a touch that matched an existing lead: prove its phone (share contact).
    CONFIRM_PHONE = "confirm_phone"
    # ... of a lead with no phone (known by e-mail only): only its own first link binds it.
    CANNOT_CONFIRM = "cannot_confirm"
    PHONE_MISMATCH = "phone_mismatch"  # the account's verified phone is not the lead's
    NOT_OWN_CONTACT = "not_own_contact"  # someone else's contact (forwarded, address book)
    NOTHING_TO_CONFIRM = "nothing_to_confirm"  # a contact nobody asked for


@dataclass(frozen=True)
class SharedContact:
    """A contact a user sent the bot, as Telegram delivered it."""

    phone_number: str
    # The Telegram user the contact belongs to, when Telegram knows it: the sender's own
    # id for their own number (the `request_contact` button), another id or None for a
    # contact from the address book or a forwarded one.
    user_id: int | None


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

    The link of the touch that created the lead binds at once (only that browser had
    it). The link of a touch that matched an existing lead binds nothing: unless the lead
    is already this account's, the account is asked to prove the lead's phone
    (`prove_contact`) and learns nothing of the lead meanwhile.

    `on_bound` runs inside the binding's transaction: the answer it queues there is ahead
    of anything the binding's consumers send (the welcome), whatever the timing.
    """
    touch = await LeadTouch.get_or_none(start_token=token).prefetch_related("lead")
    if touch is None:
        return BindResult(Bind.UNKNOWN)
    lead: LeadEntry = touch.lead
    if lead.user_id == user.id:
        return BindResult(Bind.ALREADY_YOURS, lead.id)
    if touch.matched_by is not None:
        return await _ask_for_proof(clock, settings, touch, lead, user)
    if lead.user_id is not None:
        return BindResult(Bind.OTHER_ACCOUNT)
    if _expired(clock, settings, touch):
        return BindResult(Bind.EXPIRED)
    # Only an unbound lead is taken: two accounts racing for one link, one wins.
    return await _bind(hub, clock, touch, user, on_bound, LeadEntry.filter(user_id=None))


async def prove_contact(
    hub: SignalHub,
    clock: Clock,
    settings: Settings,
    user: User,
    contact: SharedContact,
    on_bound: OnBound | None = None,
) -> BindResult:
    """A contact shared after `CONFIRM_PHONE`: the account's own number, verified by
    Telegram, equal to the lead's (as E.164) binds the lead to this account.

    It binds even a lead another account holds: that account proved only that it opened
    a link first, this one owns the phone that identifies the lead (Telegram gives a
    number to one account at a time), so someone who registered first with another
    person's number does not keep that person out.
    """
    touch = (
        await LeadTouch.filter(claimed_by_id=user.id)
        .order_by("-claimed_at", "-id")
        .first()
        .prefetch_related("lead")
    )
    if touch is None:
        return BindResult(Bind.NOTHING_TO_CONFIRM)
    lead: LeadEntry = touch.lead
    if lead.user_id == user.id:
        return BindResult(Bind.ALREADY_YOURS, lead.id)
    if contact.user_id is None or contact.user_id != user.telegram_id:
        return BindResult(Bind.NOT_OWN_CONTACT)
    if _expired(clock, settings, touch):
        return BindResult(Bind.EXPIRED)
    phone = telegram_phone(contact.phone_number)
    if phone is None or phone != lead.phone:
        return BindResult(Bind.PHONE_MISMATCH)
    # Only while the lead still has the phone that was proven.
    return await _bind(hub, clock, touch, user, on_bound, LeadEntry.filter(phone=phone))


def _expired(clock: Clock, settings: Settings, touch: LeadTouch) -> bool:
    return bool(clock.now() - touch.at > settings.start_token_ttl_seconds)


async def _ask_for_proof(
    clock: Clock, settings: Settings, touch: LeadTouch, lead: LeadEntry, user: User
) -> BindResult:
    if _expired(clock, settings, touch):
        return BindResult(Bind.EXPIRED)
    if lead.phone is None:
        # An e-mail can't be proven through Telegram, and the phone the touch brought
        # is not the lead's: nothing this account can show makes the lead its own.
        return BindResult(Bind.CANNOT_CONFIRM)
    await LeadTouch.filter(id=touch.id).update(claimed_by_id=user.id, claimed_at=clock.now())
    return BindResult(Bind.CONFIRM_PHONE)


async def _bind(
    hub: SignalHub,
    clock: Clock,
    touch: LeadTouch,
    user: User,
    on_bound: OnBound | None,
    condition: QuerySet[LeadEntry],
) -> BindResult:
    """Bind the touch's lead to `user` if it still meets `condition`; else OTHER_ACCOUNT."""
    lead: LeadEntry = touch.lead
    async with hub.transaction() as tx:
        taken = (
            await condition.filter(id=lead.id)
            .using_db(tx.connection)
            .update(user_id=user.id, chat_id=user.chat_id, updated_at=clock.now())
        )
        if not taken:
            return BindResult(Bind.OTHER_ACCOUNT)
        if touch.matched_by is not None:  # proven now: what it brought may fill gaps
            await fill_in_from_proven_touch(tx.connection, clock, touch, lead)
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
            bound = await LeadEntry.filter(id=lead.id).using_db(tx.connection).get()
            await on_bound(tx.connection, bound)
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
