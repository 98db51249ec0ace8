"""Partners' referral codes, their link visits, and what came of them."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from core.clock import Clock
from core.contact import UTM_KEYS
from models import LeadEntry, RefVisit, User

CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud, typed by hand


def _new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


async def ensure_ref_code(user: User) -> str:
    """The user's referral code, made on first use (unique; a clash is simply retried)."""
    while not user.ref_code:
        user.ref_code = _new_code()
        try:
            await user.save(update_fields=["ref_code"])
        except IntegrityError:
            user.ref_code = None
    return user.ref_code


async def record_visit(
    clock: Clock, code: str, query: dict[str, str], referrer: str | None
) -> None:
    """Count one click on `/r/<code>` (an unknown code is counted too: it may be printed)."""
    partner = await User.filter(ref_code=code).only("id").first()
    await RefVisit.create(
        code=code,
        partner_id=partner.id if partner else None,
        utm={k: v[:200] for k, v in query.items() if k in UTM_KEYS and v},
        referrer=(referrer or "")[:500] or None,
        at=clock.now(),
    )


@dataclass(frozen=True)
class Funnel:
    visits: int
    leads: int
    in_telegram: int


async def funnel_of(user: User) -> Funnel:
    """Visits → leads → leads who opened the bot, for one partner's own links."""
    leads = LeadEntry.filter(partner_id=user.id)
    return Funnel(
        visits=await RefVisit.filter(partner_id=user.id).count(),
        leads=await leads.count(),
        in_telegram=await leads.filter(chat_id__not_isnull=True).count(),
    )
