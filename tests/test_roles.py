"""Roles and capabilities: the whole matrix, one user's grants, roles waiting for a person."""

from __future__ import annotations

import pytest

from bot.lead_card import visible_lead
from core.clock import FakeClock
from core.hub import SignalHub
from core.roles import Capability as C
from core.roles import can, capabilities_of
from core.settings import Settings
from core.users import NotAllowed, set_capability, set_role
from handlers.binding import TelegramPerson, upsert_user
from models import EventRecord, LeadEntry, Role, User

# Written out by hand, not derived from core/roles.py: a change of defaults must be seen here.
PARTNER = {C.LEADS_VIEW_OWN}
LEADER = PARTNER | {C.LEADS_VIEW_TEAM}
SPEAKER = LEADER | {
    C.WEBINAR_MANAGE_CHAT,
    C.WEBINAR_MANAGE_STATUS,
    C.WEBINAR_CREATE,
    C.APPROVE_PROFILES,
}
EXPECTED: dict[Role, set[C]] = {
    Role.CANDIDATE: set(),
    Role.PARTNER: PARTNER,
    Role.LEADER: LEADER,
    Role.SPEAKER: SPEAKER,
    Role.ADMIN: set(C),
}


async def make_user(clock: FakeClock, telegram_id: int, role: Role = Role.CANDIDATE) -> User:
    now = clock.now()
    return await User.create(telegram_id=telegram_id, role=role, created_at=now, updated_at=now)


async def test_every_capability_for_every_role(database_url: str, clock: FakeClock) -> None:
    wrong = []
    for number, role in enumerate(Role, start=1):
        user = await make_user(clock, number, role)
        for capability in C:
            if await can(user, capability) != (capability in EXPECTED[role]):
                wrong.append(f"{role.value} × {capability.value}")
    assert not wrong, "unexpected answers: " + ", ".join(wrong)


async def test_a_grant_and_a_withdrawal_change_one_user_only(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    alice = await make_user(clock, 1, Role.SPEAKER)
    bob = await make_user(clock, 2, Role.SPEAKER)

    await set_capability(hub, clock, 1, C.APPROVE_USERS, True, actor=None)
    await set_capability(hub, clock, 1, C.WEBINAR_CREATE, False, actor=None)

    assert await capabilities_of(alice) == (SPEAKER | {C.APPROVE_USERS}) - {C.WEBINAR_CREATE}
    assert await capabilities_of(bob) == SPEAKER
    assert (await User.get(id=alice.id)).role == Role.SPEAKER  # the role itself is unchanged
    # A withdrawal can be taken back by a grant: the latest word wins.
    await set_capability(hub, clock, 1, C.WEBINAR_CREATE, True, actor=None)
    assert await can(alice, C.WEBINAR_CREATE)
    logged = await EventRecord.filter(name="core_user_capability_set").order_by("id")
    assert [(e.payload["capability"], e.payload["granted"]) for e in logged] == [
        ("approve_users", True),
        ("webinar_create", False),
        ("webinar_create", True),
    ]
    assert {e.payload["user_id"] for e in logged} == {alice.id}
    assert all(e.payload["actor"] == "system" for e in logged)


async def test_only_users_manage_roles_may_change_people(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    speaker = await make_user(clock, 10, Role.SPEAKER)
    admin = await make_user(clock, 11, Role.ADMIN)
    with pytest.raises(NotAllowed):
        await set_role(hub, clock, 12, Role.LEADER, actor=speaker)
    with pytest.raises(NotAllowed):
        await set_capability(hub, clock, 12, C.BROADCAST, True, actor=speaker)
    assert await EventRecord.filter(name__startswith="core_user_").count() == 0

    await set_role(hub, clock, 12, Role.LEADER, actor=admin)
    # A speaker granted the capability may do it too; no role name is checked.
    await set_capability(hub, clock, 10, C.USERS_MANAGE_ROLES, True, actor=admin)
    await set_role(hub, clock, 12, Role.PARTNER, actor=speaker)

    events = await EventRecord.filter(name="core_user_role_set").order_by("id")
    assert [(e.payload["role"], e.payload["previous_role"]) for e in events] == [
        ("leader", "candidate"),
        ("partner", "leader"),
    ]
    assert [e.payload["actor_user_id"] for e in events] == [admin.id, speaker.id]
    assert events[0].payload["actor"] == f"user:{admin.id}"


async def test_a_role_set_in_advance_waits_for_the_first_message(
    settings: Settings, clock: FakeClock, hub: SignalHub
) -> None:
    waiting = await set_role(hub, clock, 777, Role.LEADER, actor=None)
    assert waiting.chat_id is None

    user = await upsert_user(clock, settings, TelegramPerson(777, 777, first_name="Lena"))

    assert (user.id, user.role, user.chat_id, user.first_name) == (
        waiting.id,
        Role.LEADER,
        777,
        "Lena",
    )


async def test_admin_ids_are_admins_from_their_first_message(
    settings: Settings, clock: FakeClock, hub: SignalHub
) -> None:
    settings = settings.model_copy(update={"admin_ids": (42, 43)})
    first = await upsert_user(clock, settings, TelegramPerson(42, 42))
    # Even when someone set another role for them in advance.
    await set_role(hub, clock, 43, Role.PARTNER, actor=None)
    second = await upsert_user(clock, settings, TelegramPerson(43, 43))
    stranger = await upsert_user(clock, settings, TelegramPerson(44, 44))

    assert (first.role, second.role, stranger.role) == (Role.ADMIN, Role.ADMIN, Role.CANDIDATE)
    assert await can(first, C.USERS_MANAGE_ROLES)


async def test_the_lead_card_follows_capabilities(
    database_url: str, clock: FakeClock, hub: SignalHub
) -> None:
    partner = await make_user(clock, 1, Role.PARTNER)
    other = await make_user(clock, 2, Role.PARTNER)
    candidate = await make_user(clock, 3)
    now = int(clock.now())
    lead = await LeadEntry.create(
        lead_source="web_form",
        first_touch_at=now,
        lead_created_at=now,
        updated_at=now,
        partner_id=partner.id,
    )

    assert await visible_lead(partner, lead.id) is not None
    assert await visible_lead(other, lead.id) is None
    assert await visible_lead(candidate, lead.id) is None

    await set_capability(hub, clock, 3, C.LEADS_VIEW_ALL, True, actor=None)
    await set_capability(hub, clock, 1, C.LEADS_VIEW_OWN, False, actor=None)
    assert await visible_lead(candidate, lead.id) is not None
    assert await visible_lead(partner, lead.id) is None
