"""`/stop`: a person asks for no more messages — one Core command, one event per lead.

The command only records the wish (`core_lead_unsubscribed`, stored in the transaction
that reads the person's leads); the scenario engine's consumer cancels the runs through
the engine's one cancel path (`handlers/funnel.py`), as it does for a chat that blocked
the bot. Any later entry point (a web unsubscribe link, an admin) calls this too.
"""

from __future__ import annotations

from core.actors import done_by
from core.clock import Clock
from core.events import CoreLeadUnsubscribed
from core.hub import SignalHub
from models import LeadEntry, User


async def unsubscribe(hub: SignalHub, clock: Clock, user: User) -> list[int]:
    """Record that `user` wants no more scenario messages; the ids of their leads."""
    async with hub.transaction() as tx:
        leads = (
            await LeadEntry.filter(user_id=user.id)
            .using_db(tx.connection)
            .order_by("id")
            .values_list("id", flat=True)
        )
        lead_ids = [int(lead_id) for lead_id in leads]  # type: ignore[call-overload]
        await tx.publish_many(
            [
                CoreLeadUnsubscribed(
                    timestamp=int(clock.now()), lead_id=lead_id, user_id=user.id, **done_by(user)
                )
                for lead_id in lead_ids
            ]
        )
    return lead_ids
