"""/users: find a person, see their role and capabilities, change them by button.

Every screen and every press needs `users_manage_roles`; the changes are the Core
commands `set_role` / `set_capability` with the admin as actor (stored with their events).
The lockout rules (no change of one's own role, no withdrawal of one's own
`users_manage_roles`, never the last holder's) are the commands'; this screen shows the
refusal.
"""

from __future__ import annotations

import html
from typing import Any, Final

from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.access import allowed, refusal
from bot.context import Translate
from bot.prompts import ask, on_prompt
from bot.replies import Reply
from bot.routes import Routes
from core.clock import Clock
from core.hub import SignalHub
from core.people import Change, history_of, search_users
from core.present import display_name, short_time
from core.roles import ROLES, Capability, overrides_of
from core.settings import Settings
from core.telegram_limits import fit_plain
from core.users import LockedOut, Lockout, NotAllowed, UserView, set_capability, set_role
from delivery.callbacks import UserCapability, UserCard, UserRole
from delivery.outbox import Button, Buttons
from locales import N_
from models import User

router: Final[Routes] = Routes(__name__)

NEED = Capability.USERS_MANAGE_ROLES
LABEL_LIMIT = 48  # UTF-16 units of a name on a button
LOCKOUTS: Final[dict[Lockout, str]] = {
    Lockout.OWN_ROLE: N_("You cannot change your own role: ask another admin."),
    Lockout.OWN_RIGHT: N_(
        "You cannot withdraw your own right to manage people: ask another admin."
    ),
    Lockout.LAST_MANAGER: N_(
        "This would leave nobody who can manage people: give the right to someone else first."
    ),
}


@router.message(Command("users"))
async def users_command(
    message: Message, command: CommandObject, user: User, t: Translate, reply: Reply, clock: Clock
) -> None:
    if not await allowed(user, NEED, t, reply):
        return
    query = (command.args or "").strip()
    if not query:
        await ask(clock, user, "users_search")
        recent = await search_users("")
        text = t(N_("Send a Telegram id, @username or part of a name. The newest people:"))
        await reply(html.escape(text), _results(recent))
        return
    await _show_results(query, t, reply)


@on_prompt("users_search")
async def users_search_answer(
    message: Message, user: User, text: str, data: dict[str, Any], wf: dict[str, Any]
) -> None:
    t: Translate = wf["t"]
    reply: Reply = wf["reply"]
    if not await allowed(user, NEED, t, reply):
        return
    await _show_results(text, t, reply)


async def _show_results(query: str, t: Translate, reply: Reply) -> None:
    found = await search_users(query)
    if not found:
        text = t(N_("Nobody found for “{query}”.")).format(query=query)
        await reply(html.escape(text))
        return
    await reply(html.escape(t(N_("Found: {count}")).format(count=len(found))), _results(found))


def _results(people: list[User]) -> Buttons:
    def label(u: User) -> str:
        at = f" @{u.username}" if u.username else ""
        # The role after the name always shows, however long the name.
        return f"{fit_plain(display_name(u) + at, LABEL_LIMIT)} · {u.role}"

    return tuple((Button(label(u), callback=UserCard(user_id=u.id).pack()),) for u in people)


@router.callback_query(UserCard.filter())
@router.callback_query(UserRole.filter())
@router.callback_query(UserCapability.filter())
async def users_press(
    query: CallbackQuery,
    callback_data: UserCard | UserRole | UserCapability,
    user: User,
    t: Translate,
    reply: Reply,
    hub: SignalHub,
    clock: Clock,
    settings: Settings,
) -> None:
    if not await allowed(user, NEED, t, query):
        return
    target = await User.get_or_none(id=callback_data.user_id)
    if target is None or target.telegram_id is None:
        await query.answer(t(N_("This button is not valid.")), show_alert=True)
        return
    if isinstance(callback_data, UserCard):  # open the card
        text, buttons = await card(target, t, settings)
        await reply(text, buttons)
        await query.answer()
        return
    try:
        note = await _change(hub, clock, user, target, callback_data, t)
    except NotAllowed:  # rights changed between the check above and the command
        await query.answer(refusal(t, NEED), show_alert=True)
        return
    except LockedOut as refused:
        await query.answer(t(LOCKOUTS[refused.reason]), show_alert=True)
        return
    if note is not None:
        await query.answer(note, show_alert=True)
        return
    if query.message is not None:  # edited before the answer: the press ends when it is queued
        text, buttons = await card(await User.get(id=target.id), t, settings)
        await reply.edit(query.message.message_id, text, buttons)
    await query.answer(t(N_("Saved.")))


async def _change(
    hub: SignalHub,
    clock: Clock,
    actor: User,
    target: User,
    press: UserRole | UserCapability,
    t: Translate,
) -> str | None:
    """Apply one press; a refusal's text, or None when the change was made."""
    assert target.telegram_id is not None
    if isinstance(press, UserRole):
        if target.role == press.role:
            return t(N_("Nothing to change."))
        await set_role(hub, clock, target.telegram_id, press.role, actor=actor)
        return None
    capability, granted = press.capability, press.grant
    view = UserView(target, await overrides_of(target))
    if (capability in view.capabilities) == granted:
        return t(N_("Nothing to change."))
    await set_capability(hub, clock, target.telegram_id, capability, granted, actor=actor)
    return None


async def card(target: User, t: Translate, settings: Settings) -> tuple[str, Buttons]:
    """The user card: who, role, capabilities (overrides marked), the latest changes."""
    overrides = dict(await overrides_of(target))
    caps = UserView(target, list(overrides.items())).capabilities
    esc = html.escape
    lines = [f"<b>{esc(display_name(target))}</b>"]
    if target.username:
        lines.append(esc(f"@{target.username}"))
    lines += [
        f"Telegram id: <code>{target.telegram_id}</code>",
        f"{esc(t(N_('Role')))}: <b>{esc(target.role)}</b>",
        "",
        f"{esc(t(N_('Capabilities')))}:",
    ]
    for capability in Capability:
        override = overrides.get(capability)
        mark = "" if override is None else t(N_("granted") if override else N_("withdrawn"))
        note = f" ({esc(mark)})" if mark else ""
        if capability in caps:
            lines.append(f"✅ {capability.value}{note}")
        elif mark:
            lines.append(f"🚫 <s>{capability.value}</s>{note}")
    if not caps and not overrides:
        lines.append("—")
    changes = await history_of(target)
    if changes:
        lines += ["", f"{esc(t(N_('Latest changes')))}:"]
        lines += [_change_line(c, t, settings) for c in changes]
    return "\n".join(lines), _card_buttons(target, caps)


def _change_line(change: Change, t: Translate, settings: Settings) -> str:
    when = short_time(change.at, settings.timezone)
    who = display_name(change.actor) if change.actor else t(N_("system"))
    p = change.payload
    if change.name == "core_user_role_set":
        what = t(N_("role {previous} → {role}")).format(
            previous=p.get("previous_role") or "—", role=p.get("role")
        )
    elif p.get("granted"):
        what = t(N_("granted {capability}")).format(capability=p.get("capability"))
    else:
        what = t(N_("withdrew {capability}")).format(capability=p.get("capability"))
    return html.escape(f"{when} — {who}: {what}")


def _card_buttons(target: User, caps: frozenset[Capability]) -> Buttons:
    roles = tuple(
        Button(
            ("✓ " if target.role == role else "") + role.value,
            callback=UserRole(user_id=target.id, role=role).pack(),
        )
        for role in ROLES
    )
    toggles = tuple(
        Button(
            ("➖ " if c in caps else "➕ ") + c.value,
            callback=UserCapability(user_id=target.id, capability=c, grant=c not in caps).pack(),
        )
        for c in Capability
    )
    rows: list[tuple[Button, ...]] = [roles[:3], roles[3:]]
    rows += [toggles[i : i + 2] for i in range(0, len(toggles), 2)]
    return tuple(rows)
