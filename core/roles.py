"""Roles and capabilities: the one place that says who may do what.

The seed's canon: admin → speaker → leader → partner → candidate, and rights are
capabilities, never role names. Each role adds capabilities to those of the role below
it, so a higher role has every capability of the lower ones. One user's grants and
withdrawals (`UserCapability`) override their role's defaults without changing the role.
Code checks `can(user, Capability.X)` (or a loaded set), never `user.role == ...`.
`docs/ROLES.md` is generated from this module.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from enum import StrEnum

from tortoise.backends.base.client import BaseDBAsyncClient

from models import Role, User, UserCapability

# Lowest first: the order of `Role` itself (candidate … admin).
ROLES: tuple[Role, ...] = tuple(Role)


class Capability(StrEnum):
    LEADS_VIEW_OWN = "leads_view_own"
    LEADS_VIEW_TEAM = "leads_view_team"
    WEBINAR_MANAGE_CHAT = "webinar_manage_chat"
    WEBINAR_MANAGE_STATUS = "webinar_manage_status"
    WEBINAR_CREATE = "webinar_create"
    APPROVE_PROFILES = "approve_profiles"
    APPROVE_USERS = "approve_users"
    LEADS_VIEW_ALL = "leads_view_all"
    BROADCAST = "broadcast"
    USERS_MANAGE_ROLES = "users_manage_roles"


SUMMARY: Mapping[Capability, str] = {
    Capability.LEADS_VIEW_OWN: "see the leads one brought in (their cards, `/leads`)",
    Capability.LEADS_VIEW_TEAM: "see the leads of the partners one brought in (the team)",
    Capability.WEBINAR_MANAGE_CHAT: "moderate any webinar's internal chat",
    Capability.WEBINAR_MANAGE_STATUS: "start and stop any webinar (`core_webinar_set_status`)",
    Capability.WEBINAR_CREATE: "create and edit webinars",
    Capability.APPROVE_PROFILES: "approve profile changes shown to leads (name, photo)",
    Capability.APPROVE_USERS: "approve or reject a candidate who applied to become a partner",
    Capability.LEADS_VIEW_ALL: "see every lead, whoever brought it in",
    Capability.BROADCAST: "send a broadcast to a segment",
    Capability.USERS_MANAGE_ROLES: "change roles, grant and withdraw capabilities",
}

# What each role adds to the role below it. `approve_users` is optional for a speaker in
# the seed, so it is an admin default and a per-speaker grant.
ADDED_BY_ROLE: Mapping[Role, frozenset[Capability]] = {
    Role.CANDIDATE: frozenset(),
    Role.PARTNER: frozenset({Capability.LEADS_VIEW_OWN}),
    Role.LEADER: frozenset({Capability.LEADS_VIEW_TEAM}),
    Role.SPEAKER: frozenset(
        {
            Capability.WEBINAR_MANAGE_CHAT,
            Capability.WEBINAR_MANAGE_STATUS,
            Capability.WEBINAR_CREATE,
            Capability.APPROVE_PROFILES,
        }
    ),
    Role.ADMIN: frozenset(Capability),  # everything, including capabilities added later
}


def role_defaults(role: Role) -> frozenset[Capability]:
    """The capabilities `role` has by default: its own and every lower role's."""
    below = ROLES[: ROLES.index(role) + 1]
    return frozenset().union(*(ADDED_BY_ROLE[r] for r in below))


def effective(role: Role, overrides: Iterable[tuple[Capability, bool]]) -> frozenset[Capability]:
    """The role's defaults with one user's grants (True) added and withdrawals removed."""
    caps = set(role_defaults(role))
    for capability, granted in overrides:
        if granted:
            caps.add(capability)
        else:
            caps.discard(capability)
    return frozenset(caps)


# What a stored override may name; a capability since removed from the code is ignored.
CAPABILITY_NAMES: frozenset[str] = frozenset(c.value for c in Capability)

Overrides = list[tuple[Capability, bool]]


def parse_capability(name: str) -> Capability | None:
    try:
        return Capability(name.strip().lower())
    except ValueError:
        return None


async def overrides_by_user(
    user_ids: Collection[int] | None = None, conn: BaseDBAsyncClient | None = None
) -> dict[int, Overrides]:
    """Each user's grants and withdrawals (everyone's when `user_ids` is None), one query;
    names no longer in `Capability` are ignored. The one reader of `UserCapability`."""
    rows = UserCapability.all() if user_ids is None else UserCapability.filter(user_id__in=user_ids)
    if conn is not None:
        rows = rows.using_db(conn)
    found: dict[int, Overrides] = {}
    for user_id, name, granted in await rows.values_list("user_id", "capability", "granted"):
        if name in CAPABILITY_NAMES:
            found.setdefault(user_id, []).append((Capability(name), bool(granted)))
    return found


async def overrides_of(user: User) -> Overrides:
    """The user's grants and withdrawals."""
    return (await overrides_by_user([user.id])).get(user.id, [])


async def capabilities_of(user: User) -> frozenset[Capability]:
    """Everything `user` may do now (one query); load once when checking several."""
    return effective(Role(user.role), await overrides_of(user))


async def can(user: User, capability: Capability) -> bool:
    """Whether `user` has `capability` (their role's default, or a grant, minus withdrawals)."""
    return capability in await capabilities_of(user)


async def holders_of(
    capability: Capability,
    *,
    with_chat: bool = True,
    conn: BaseDBAsyncClient | None = None,
    lock: bool = False,
) -> list[User]:
    """Users whose effective capabilities include `capability` (only those with a chat
    unless `with_chat=False`). `lock` takes their rows FOR UPDATE inside `conn`'s
    transaction, so two changes that each take the capability from someone cannot both
    count the other as the one who keeps it."""
    roles = [r for r in Role if capability in role_defaults(r)]
    grants = UserCapability.filter(capability=capability.value, granted=True)
    if conn is not None:
        grants = grants.using_db(conn)
    granted_ids = [int(user_id) for (user_id,) in await grants.values_list("user_id")]
    by_role = User.filter(role__in=roles)
    by_grant = User.filter(id__in=granted_ids)
    found: dict[int, User] = {}
    for query in (by_role, by_grant):
        if with_chat:
            query = query.filter(chat_id__not_isnull=True)
        if conn is not None:
            query = query.using_db(conn)
        if lock:
            query = query.select_for_update()
        found.update((u.id, u) for u in await query)
    overrides = await overrides_by_user(list(found), conn)
    return [
        u for u in found.values() if capability in effective(Role(u.role), overrides.get(u.id, []))
    ]
