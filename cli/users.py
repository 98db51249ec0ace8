"""`python main.py users ...`: list people, set a role, grant or withdraw a capability.

An inbound adapter like the bot's handlers: it parses the arguments, calls one Core
command as the system (`actor=None`) and prints one line. `main.py` opens the database
and builds the hub (storing only: the running service delivers the events).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable

from core.clock import Clock
from core.hub import SignalHub
from core.roles import Capability, parse_capability
from core.settings import Settings
from core.users import LockedOut, Lockout, UserView, list_users, set_capability, set_role
from models import Role

UsersCommand = Callable[[argparse.Namespace, Settings, SignalHub, Clock], Awaitable[int]]

ROLE_NAMES = ", ".join(r.value for r in Role)
CAPABILITY_NAMES = ", ".join(c.value for c in Capability)
MAX_ID = 2**63 - 1  # a BIGINT column
LOCKOUTS = {
    # The CLI acts as the system, never as a user: only the last-manager rule can refuse it.
    Lockout.OWN_ROLE: "nobody may change their own role",
    Lockout.OWN_RIGHT: "nobody may withdraw their own users_manage_roles",
    Lockout.LAST_MANAGER: "this would leave nobody with users_manage_roles; "
    "grant it to someone else first",
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `users` and its subcommands; each sets `users_command`."""
    users = sub.add_parser(
        "users",
        help="list people, set roles, grant/withdraw capabilities",
        description="Works while the service runs; every change is an event in the log. "
        "Roles and what each may do by default: docs/ROLES.md.",
    )
    users.set_defaults(users_command=None, users_parser=users)
    cmds = users.add_subparsers(title="users commands", metavar="COMMAND")
    cmds.add_parser("list", help="everyone with a Telegram id: role and own grants").set_defaults(
        users_command=cmd_list
    )
    set_role_p = cmds.add_parser(
        "set-role", help="set a role (also for an id that has not opened the bot yet)"
    )
    set_role_p.add_argument("telegram_id", metavar="TELEGRAM_ID")
    set_role_p.add_argument("role", metavar="ROLE", help=f"one of: {ROLE_NAMES}")
    set_role_p.set_defaults(users_command=cmd_set_role)
    for name, granted, what in (("grant", True, "grant"), ("revoke", False, "withdraw")):
        p = cmds.add_parser(name, help=f"{what} one capability, whatever the role says")
        p.add_argument("telegram_id", metavar="TELEGRAM_ID")
        p.add_argument("capability", metavar="CAPABILITY", help=f"one of: {CAPABILITY_NAMES}")
        p.set_defaults(users_command=cmd_capability, granted=granted)


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def parse_telegram_id(text: str) -> int | None:
    value = text.strip()
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        return None
    return int(value)


async def cmd_list(args: argparse.Namespace, settings: Settings, hub: SignalHub, c: Clock) -> int:
    views = await list_users()
    if not views:
        print("no users yet")
        return 0
    rows = [["TELEGRAM ID", "NAME", "ROLE", "OWN GRANTS / WITHDRAWALS"]]
    rows += [_row(v) for v in views]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)), row[-1]]))
    return 0


def _row(view: UserView) -> list[str]:
    user = view.user
    name = f"{user.first_name} {user.last_name}".strip() or "—"
    if user.username:
        name += f" @{user.username}"
    if user.chat_id is None:
        name += " (has not opened the bot)"
    extra = " ".join(("+" if granted else "-") + cap.value for cap, granted in view.overrides)
    return [str(user.telegram_id), name, str(user.role), extra or "—"]


async def cmd_set_role(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    telegram_id = parse_telegram_id(args.telegram_id)
    if telegram_id is None:
        return fail(f"{args.telegram_id!r} is not a Telegram id (a positive number)")
    try:
        role = Role(args.role.strip().lower())
    except ValueError:
        return fail(f"unknown role {args.role!r}; valid roles: {ROLE_NAMES}")
    try:
        user = await set_role(hub, clock, telegram_id, role, actor=None)
    except LockedOut as refused:
        return fail(f"{telegram_id}: {LOCKOUTS[refused.reason]}")
    waiting = "" if user.chat_id else " (waiting for them to open the bot)"
    print(f"{telegram_id}: role {role.value}{waiting}")
    if telegram_id in settings.admin_ids and role is not Role.ADMIN:
        print(f"note: {telegram_id} is in ADMIN_IDS and becomes admin again on their next message")
    return 0


async def cmd_capability(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    telegram_id = parse_telegram_id(args.telegram_id)
    if telegram_id is None:
        return fail(f"{args.telegram_id!r} is not a Telegram id (a positive number)")
    capability = parse_capability(args.capability)
    if capability is None:
        return fail(f"unknown capability {args.capability!r}; valid: {CAPABILITY_NAMES}")
    try:
        await set_capability(hub, clock, telegram_id, capability, args.granted, actor=None)
    except LockedOut as refused:
        return fail(f"{telegram_id}: {LOCKOUTS[refused.reason]}")
    print(f"{telegram_id}: {capability.value} {'granted' if args.granted else 'withdrawn'}")
    return 0
