"""Core commands on people: set a role, grant or withdraw a capability.

Transport-independent: the command line calls them as the system (`actor=None`); the bot's
`/users` calls them with the admin who pressed the button. Each change is checked
(`users_manage_roles`) and stored together with its event in one transaction.

Nobody locks the house out, whoever asks (`Lockout`): no one changes their own role or
withdraws their own `users_manage_roles`, and no change — not even the system's — takes
`users_manage_roles` from its last holder, since then nobody could give it back but the
operator's database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tortoise.backends.base.client import BaseDBAsyncClient

from core.actors import done_by
from core.clock import Clock
from core.events import CoreUserCapabilitySet, CoreUserRoleSet
from core.hub import SignalHub
from core.roles import Capability, Overrides, can, effective, holders_of, overrides_by_user
from models import Role, User, UserCapability


class NotAllowed(Exception):
    """The actor lacks the capability this command needs."""


class Lockout(StrEnum):
    """Why a change of rights was refused: it would lock someone (or everyone) out."""

    OWN_ROLE = "own_role"  # the actor's own role
    OWN_RIGHT = "own_right"  # the actor's own users_manage_roles
    LAST_MANAGER = "last_manager"  # the last holder of users_manage_roles


class LockedOut(Exception):
    """The change would lock someone out (`reason`); nothing was changed."""

    def __init__(self, reason: Lockout) -> None:
        super().__init__(reason.value)
        self.reason = reason


MANAGE = Capability.USERS_MANAGE_ROLES


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
    if actor is not None and not await can(actor, MANAGE):
        raise NotAllowed(MANAGE)


async def _keep_a_manager(
    conn: BaseDBAsyncClient, user: User, after: frozenset[Capability]
) -> None:
    """Refuse a change that leaves `user` without `users_manage_roles` when nobody else
    has it (with or without a chat: one set up in advance will manage once they write)."""
    if MANAGE in after:
        return
    holders = await holders_of(MANAGE, with_chat=False, conn=conn, lock=True)
    if [h.id for h in holders] == [user.id]:
        raise LockedOut(Lockout.LAST_MANAGER)


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
    """Give the user with `telegram_id` the role `role` (creating the user if unseen).

    Raises `LockedOut` for the actor's own role, or for the last manager's."""
    await _check(actor)
    async with hub.transaction() as tx:
        user = await _user_for(tx.connection, clock, telegram_id)
        if actor is not None and actor.id == user.id:
            raise LockedOut(Lockout.OWN_ROLE)
        overrides = (await overrides_by_user([user.id], tx.connection)).get(user.id, [])
        await _keep_a_manager(tx.connection, user, effective(role, overrides))
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
    """Grant (`granted=True`) or withdraw one capability, whatever the user's role says.

    Raises `LockedOut` when it withdraws the actor's own `users_manage_roles`, or the last
    manager's."""
    await _check(actor)
    async with hub.transaction() as tx:
        user = await _user_for(tx.connection, clock, telegram_id)
        if not granted and capability is MANAGE:
            if actor is not None and actor.id == user.id:
                raise LockedOut(Lockout.OWN_RIGHT)
            overrides = (await overrides_by_user([user.id], tx.connection)).get(user.id, [])
            after = effective(Role(user.role), [*overrides, (capability, False)])
            await _keep_a_manager(tx.connection, user, after)
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
