"""Who did something, as events name them: "system" (the command line) or "user:<id>".

Every event of a change made by a person or by the operator carries `actor` and
`actor_user_id`; this is the one place that spells them.
"""

from __future__ import annotations

from typing import TypedDict

from models import User

SYSTEM = "system"


class ActorFields(TypedDict):
    actor: str
    actor_user_id: int | None


def actor_name(user: User | None) -> str:
    """`user:<id>`, or "system" for the command line (`None`)."""
    return SYSTEM if user is None else f"user:{user.id}"


def done_by(user: User | None) -> ActorFields:
    """The `actor` fields of an event: `Event(..., **done_by(actor))`."""
    return {"actor": actor_name(user), "actor_user_id": None if user is None else user.id}
