"""Finding people and reading what was changed about them: what `/users` shows.

The changes themselves are `core.users.set_role` / `set_capability`; this module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from models import EventRecord, User

SEARCH_LIMIT = 10
CHANGE_EVENTS = ("core_user_role_set", "core_user_capability_set")


async def search_users(query: str, limit: int = SEARCH_LIMIT) -> list[User]:
    """People whose Telegram id, @username or name matches `query`; newest first.

    An empty query lists the most recent people.
    """
    people = User.filter(telegram_id__not_isnull=True).order_by("-id")
    text = query.strip()
    if text.isdigit():
        people = people.filter(telegram_id=int(text))
    elif text.startswith("@"):
        people = people.filter(username__iexact=text[1:])
    elif text:
        people = people.filter(
            Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(username__icontains=text)
        )
    return await people.limit(limit)


@dataclass(frozen=True)
class Change:
    """One change to a user's role or capabilities, with who made it and when."""

    at: float
    name: str  # core_user_role_set | core_user_capability_set
    payload: dict[str, object]
    actor: User | None  # None: the system (the command line), or a user since deleted


async def history_of(user: User, limit: int = 5) -> list[Change]:
    """The newest changes to `user`'s role and capabilities, newest first."""
    # event_log.user_id (indexed) is the payload's user_id, stored with the event.
    mine = (
        await EventRecord.filter(user_id=user.id, name__in=CHANGE_EVENTS)
        .order_by("-id")
        .limit(limit)
        .values_list("name", "payload", "created_at")
    )
    actor_ids = {p.get("actor_user_id") for _, p, _ in mine} - {None}
    actors = {u.id: u for u in await User.filter(id__in=list(actor_ids))}
    return [
        Change(at, name, payload, actors.get(payload.get("actor_user_id")))
        for name, payload, at in mine
    ]
