"""Partners' referral codes, their link visits, and what came of them."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from core.attendance import Stage, leads_at
from core.clock import Clock
from core.contact import UTM_KEYS, UTM_LENGTH
from core.visible import visible_line
from models import Application, LeadEntry, RefVisit, Review, User

CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud, typed by hand


def _new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


async def new_ref_code(connection: BaseDBAsyncClient | None = None) -> str:
    """A code nobody has yet, for a caller that saves it in its own transaction (where a
    clash would abort the transaction rather than be retried; at 32^8 codes it won't)."""
    while True:
        code = _new_code()
        taken = User.filter(ref_code=code)
        if not await (taken.using_db(connection) if connection else taken).exists():
            return code


async def ensure_ref_code(user: User) -> str:
    """The user's referral code, made on first use. Set only where none is yet, so two
    requests at once agree on one code instead of the later one replacing the first."""
    if not user.ref_code:
        await User.filter(id=user.id, ref_code=None).update(ref_code=await new_ref_code())
        await user.refresh_from_db(fields=["ref_code"])
    assert user.ref_code
    return user.ref_code


async def record_visit(
    clock: Clock,
    code: str,
    query: dict[str, str],
    referrer: str | None,
    *,
    visitor: str,
    window: float,
) -> None:
    """Count a click on `/r/<code>` once per `visitor` (a key of this link's own) and
    `window` of seconds; an unknown code is counted too (it may be printed somewhere).

    One row at most per visitor, link and window, by a unique key: two clicks at once
    agree on one row, with no look-up first.
    """
    partner = await User.filter(ref_code=code).only("id").first()
    now = clock.now()
    visit = RefVisit(
        code=code,
        partner_id=partner.id if partner else None,
        utm={k: visible_line(v)[:UTM_LENGTH] for k, v in query.items() if k in UTM_KEYS and v},
        referrer=(referrer or "")[:500] or None,
        at=now,
        visitor=visitor,
        period=int(now // window),
    )
    await RefVisit.bulk_create([visit], ignore_conflicts=True)


@dataclass(frozen=True)
class Funnel:
    visits: int
    leads: int
    in_telegram: int
    # From the event log (0 until webinars run) and the applications to become a partner.
    registered: int = 0
    attended: int = 0
    applied: int = 0
    approved: int = 0


async def funnel_of(user: User) -> Funnel:
    """Visits → leads → in Telegram → registered → attended → applied (→ approved), for
    one partner's own links. Each stage counts people (leads), not events."""
    leads = LeadEntry.filter(partner_id=user.id)

    def lead_ids() -> Subquery:
        return Subquery(LeadEntry.filter(partner_id=user.id).values("id"))

    def applications() -> QuerySet[Application]:
        # Applications of the people behind this partner's leads (bound to their chat).
        people = LeadEntry.filter(partner_id=user.id, user_id__not_isnull=True)
        return Application.filter(user_id__in=Subquery(people.values("user_id")))

    registered = await leads_at(Stage.REGISTERED, lead_ids())
    attended = await leads_at(Stage.ATTENDED, lead_ids())
    return Funnel(
        visits=await RefVisit.filter(partner_id=user.id).count(),
        leads=await leads.count(),
        in_telegram=await leads.filter(chat_id__not_isnull=True).count(),
        registered=len(registered),
        attended=len(attended),
        applied=await _people(applications()),
        approved=await _people(applications().filter(status=Review.APPROVED)),
    )


async def _people(applications: QuerySet[Application]) -> int:
    return len(await applications.distinct().values_list("user_id"))
