"""Core commands on people: set a role, grant or withdraw a capability.

Transport-independent: the command line calls them as the system (`actor=None`); the bot's
`/users` will call them with the admin who pressed the button. Each change is checked
(`users_manage_roles`) and stored together with its event in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from core.actors import done_by
from core.clock import Clock
from core.events import CoreUserCapabilitySet, CoreUserRoleSet
from core.hub import SignalHub
from core.roles import Capability, Overrides, can, effective, overrides_by_user
from models import Role, User, UserCapability


class NotAllowed(Exception):
    """The actor lacks the capability this command needs."""


@dataclass(frozen=True)
class UserView:
    """One user as the admin tools list them."""

    user: User
    overrides: Overrides

    @property
    def capabilities(self) -> frozenset[Capability]:
        return effective(Role(self.user.role), self.overrides)


async def _check(actor: User | None) -> None:
    # None is the system itself (the command line run by the operator): always allowed.
    if actor is not None and not await can(actor, Capability.USERS_MANAGE_ROLES):
        raise NotAllowed(Capability.USERS_MANAGE_ROLES)


async def _user_for(conn: BaseDBAsyncClient, clock: Clock, telegram_id: int) -> User:
    # A Telegram id that has not opened the bot yet gets its row now, without a chat:
    # `upsert_user` finds it on the first message and keeps what was set here.
    now = clock.now()
    user, _ = await User.get_or_create(
        telegram_id=telegram_id,
        defaults={"created_at": now, "updated_at": now, "role": Role.CANDIDATE},
        using_db=conn,
    )
    return user


async def set_role(
    hub: SignalHub, clock: Clock, telegram_id: int, role: Role, *, actor: User | None
) -> User:
    """Give the user with `telegram_id` the role `role` (creating the user if unseen)."""
    await _check(actor)
    async with hub.transaction() as tx:
        user = await _user_for(tx.connection, clock, telegram_id)
        previous = Role(user.role)
        user.role = role
        user.updated_at = clock.now()
        await user.save(using_db=tx.connection, update_fields=["role", "updated_at"])
        await tx.publish(
            CoreUserRoleSet(
                timestamp=int(clock.now()),
                user_id=user.id,
                telegram_id=telegram_id,
                role=role.value,
                previous_role=previous.value,
                **done_by(actor),
            )
        )
    return user


async def set_capability(
    hub: SignalHub,
    clock: Clock,
    telegram_id: int,
    capability: Capability,
    granted: bool,
    *,
    actor: User | None,
) -> User:
    """Grant (`granted=True`) or withdraw one capability, whatever the user's role says."""
    await _check(actor)
    async with hub.transaction() as tx:
        user = await _user_for(tx.connection, clock, telegram_id)
        await UserCapability.update_or_create(
            user_id=user.id,
            capability=capability.value,
            defaults={
                "granted": granted,
                "by_user_id": actor.id if actor else None,
                "at": clock.now(),
            },
            using_db=tx.connection,
        )
        await tx.publish(
            CoreUserCapabilitySet(
                timestamp=int(clock.now()),
                user_id=user.id,
                telegram_id=telegram_id,
                capability=capability.value,
                granted=granted,
                **done_by(actor),
            )
        )
    return user


async def list_users() -> list[UserView]:
    """Everyone with a Telegram id, highest role first, with their own overrides."""
    users = await User.filter(telegram_id__not_isnull=True)
    users.sort(key=lambda u: (-Role(u.role).rank, u.telegram_id or 0))
    overrides = await overrides_by_user()
    return [UserView(u, sorted(overrides.get(u.id, []))) for u in users]
