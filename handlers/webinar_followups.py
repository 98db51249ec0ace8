"""Consumers that start and move the webinar scenarios (`handlers/webinar_scenarios.py`).

A registration starts the lead's reminders; a new start or new offsets begin every run of
that webinar again as a new round (keyed by the update's event, so a replayed update is
the same round and sends nothing twice); a start, stop or cancel wakes the runs, whose
conditions then read the new status. The post-webinar route starts the candidate's
follow-up.
"""

from __future__ import annotations

from core.events import (
    ClientWebinarRegistered,
    CoreWebinarSetStatus,
    CoreWebinarUpdated,
    PostWebinarRoute,
    ScenarioStart,
)
from core.hub import BatchHandler, Delivery, SignalHub
from handlers.deps import Deps

REMINDERS = "webinar_reminders"
FOLLOW_UPS = {"attended": "post_webinar_attended", "not_attended": "post_webinar_not_attended"}
# What a moved reminder hangs on (`core_webinar_updated.changed`).
RESCHEDULING = frozenset({"starts_at", "reminder_offsets"})


class WebinarFollowUps:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscribe(self, hub: SignalHub) -> None:
        # The subscriber's name is stored with each delivery: renaming one is a migration.
        # A burst of registrations (an ad campaign) is handled in batches.
        batches: dict[object, BatchHandler] = {
            self.start_reminders_of_registrant: self.start_reminders_of_registrants
        }
        for event, handler in (
            ("client_webinar_registered", self.start_reminders_of_registrant),
            ("core_webinar_updated", self.move_reminders_of_rescheduled_webinar),
            ("core_webinar_set_status", self.wake_reminders_on_webinar_status),
            ("post_webinar_route", self.start_post_webinar_follow_up),
        ):
            hub.subscribe(event, handler, name=handler.__name__, batch=batches.get(handler))

    async def start_reminders_of_registrant(
        self, event: ClientWebinarRegistered, d: Delivery
    ) -> None:
        """A registration starts the lead's `webinar_reminders` (scenario_start)."""
        await self.start_reminders_of_registrants([(event, d)])

    async def start_reminders_of_registrants(
        self, work: list[tuple[ClientWebinarRegistered, Delivery]]
    ) -> None:
        """A burst of registrations: their `scenario_start`s published in one transaction."""
        starts = [
            ScenarioStart(
                timestamp=event.timestamp,
                scenario=REMINDERS,
                lead_id=event.lead_id,
                subject=event.webinar_id,
            )
            for event, _ in work
        ]
        async with self.deps.hub.transaction() as tx:
            await tx.publish_many(starts)

    async def move_reminders_of_rescheduled_webinar(
        self, event: CoreWebinarUpdated, d: Delivery
    ) -> None:
        """A new start or new offsets: the webinar's reminder runs begin again (a new round)."""
        if RESCHEDULING & set(event.changed):
            await self.deps.engine.restart(REMINDERS, event.webinar_id, str(d.event_id))

    async def wake_reminders_on_webinar_status(
        self, event: CoreWebinarSetStatus, d: Delivery
    ) -> None:
        """Live, finished or cancelled: the reminder runs look at the webinar again now."""
        await self.deps.engine.wake_subject(REMINDERS, event.webinar_id)

    async def start_post_webinar_follow_up(self, event: PostWebinarRoute, d: Delivery) -> None:
        """attended | not_attended → the candidate's follow-up scenario (scenario_start)."""
        scenario = FOLLOW_UPS.get(event.route)
        if scenario is None:
            return
        await self.deps.hub.publish(
            ScenarioStart(
                timestamp=event.timestamp,
                scenario=scenario,
                lead_id=event.lead_id,
                subject=event.webinar_id,
            )
        )
