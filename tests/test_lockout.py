"""Nobody locks the house out, whoever asks: the rules live in `core.users`, so the bot,
the command line and any later caller get the same refusals (and no event is stored)."""

from __future__ import annotations

import pytest

from core.clock import FakeClock
from core.hub import SignalHub
from core.roles import Capability as C
from core.roles import can
from core.users import LockedOut, Lockout, set_capability, set_role
from models import EventRecord, Role, User


async def make_user(clock: FakeClock, telegram_id: int, role: Role = Role.CANDIDATE) -> User:
    now = clock.now()
    return await User.create(telegram_id=telegram_id, role=role, created_at=now, updated_at=now)


async def refused(reason: Lockout, change: object) -> None:
    with pytest.raises(LockedOut) as caught:
        await change  # type: ignore[misc]
    assert caught.value.reason is reason


async def test_an_admin_cannot_change_their_own_role_or_withdraw_their_own_right(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    ada = await make_user(clock, 1, Role.ADMIN)
    await make_user(clock, 2, Role.ADMIN)  # another admin: it is not about being the last

    await refused(Lockout.OWN_ROLE, set_role(hub, clock, 1, Role.PARTNER, actor=ada))
    await refused(
        Lockout.OWN_RIGHT, set_capability(hub, clock, 1, C.USERS_MANAGE_ROLES, False, actor=ada)
    )
    # Other capabilities of one's own may change.
    await set_capability(hub, clock, 1, C.BROADCAST, False, actor=ada)

    assert (await User.get(id=ada.id)).role == Role.ADMIN
    assert await can(ada, C.USERS_MANAGE_ROLES)
    assert [e.name for e in await EventRecord.all()] == ["core_user_capability_set"]


async def test_the_system_cannot_take_the_right_from_its_last_holder(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    ada = await make_user(clock, 1, Role.ADMIN)

    await refused(Lockout.LAST_MANAGER, set_role(hub, clock, 1, Role.SPEAKER, actor=None))
    await refused(
        Lockout.LAST_MANAGER,
        set_capability(hub, clock, 1, C.USERS_MANAGE_ROLES, False, actor=None),
    )
    assert await EventRecord.all().count() == 0
    assert (await User.get(id=ada.id)).role == Role.ADMIN

    # A speaker granted the right (set up before they write to the bot) is a second holder.
    await set_role(hub, clock, 2, Role.SPEAKER, actor=None)
    await set_capability(hub, clock, 2, C.USERS_MANAGE_ROLES, True, actor=None)
    await set_role(hub, clock, 1, Role.SPEAKER, actor=None)
    assert (await User.get(id=ada.id)).role == Role.SPEAKER

    # Now the speaker is the last holder: neither their grant nor their role may go.
    await refused(
        Lockout.LAST_MANAGER,
        set_capability(hub, clock, 2, C.USERS_MANAGE_ROLES, False, actor=None),
    )
    # A role change that keeps the right (the grant stays) is fine.
    await set_role(hub, clock, 2, Role.LEADER, actor=None)
    assert await can(await User.get(telegram_id=2), C.USERS_MANAGE_ROLES)


async def test_without_any_holder_nothing_is_locked(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    # A fresh database (the admins come from ADMIN_IDS on their first message): changes
    # of people who never held the right are not refused.
    await set_role(hub, clock, 7, Role.PARTNER, actor=None)
    await set_capability(hub, clock, 7, C.USERS_MANAGE_ROLES, False, actor=None)
    assert await EventRecord.all().count() == 2
