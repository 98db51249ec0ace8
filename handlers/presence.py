"""Consumers of tracker v2 and attendance: live time, the stop, completion, the room's form.

- Every status change tells the presence tracker the webinar's live time (the seconds it
  clips to). At the stop (`finished`), everyone present stops counting at `ended_at`, the
  presence is flushed, every visit still open is closed (`client_webinar_left`), and
  every registered lead is classified in batches (`core/classification.py`) — driven by
  the stored status change, so a crash mid-way resumes where it stopped (the delivery
  is run again; the leads already classified have their row).
- The event emitter normalises `client_webinar_completed` into `webinar_completed`, once.
- The room's form applies for the lead (`core/applications.apply(via="room")`) when the
  lead is a Telegram user; the approvers get the application's notice from there.
"""

from __future__ import annotations

from core.applications import apply
from core.classification import classify_webinar, normalise_completed
from core.events import ClientWebinarCompleted, ClientWebinarFormSubmitted, CoreWebinarSetStatus
from core.hub import Delivery, SignalHub
from core.presence_store import close_open_visits, flush, window_of
from handlers.deps import Deps
from models import LeadEntry, User, Webinar, WebinarStatus


class PresenceConsumers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscribe(self, hub: SignalHub) -> None:
        # The subscriber's name is stored with each delivery: renaming one is a migration.
        hub.subscribe("core_webinar_set_status", self.follow_live_time, name="follow_live_time")
        hub.subscribe(
            "core_webinar_set_status", self.classify_attendance, name="classify_attendance"
        )
        hub.subscribe(
            "client_webinar_completed", self.normalise_completion, name="normalise_completion"
        )
        hub.subscribe("client_webinar_form_submitted", self.apply_from_room, name="apply_from_room")

    async def follow_live_time(self, event: CoreWebinarSetStatus, d: Delivery) -> None:
        """The presence tracker counts from the start and up to the stop."""
        webinar = await Webinar.get_or_none(id=int(event.webinar_id))
        if webinar is not None and event.status != WebinarStatus.FINISHED:
            self.deps.presence.set_window(window_of(webinar))

    async def classify_attendance(self, event: CoreWebinarSetStatus, d: Delivery) -> None:
        """At the stop: presence stored, visits closed, each registered lead classified once."""
        if event.status != WebinarStatus.FINISHED:
            return
        webinar = await Webinar.get_or_none(id=int(event.webinar_id))
        if webinar is None:
            return
        deps = self.deps
        deps.presence.finish(window_of(webinar))
        await flush(deps.presence, deps.hub, deps.clock)
        await close_open_visits(deps.hub, webinar)
        await classify_webinar(deps.hub, deps.clock, webinar)
        deps.presence.forget(webinar.id)

    async def normalise_completion(self, event: ClientWebinarCompleted, d: Delivery) -> None:
        """The event emitter: `client_webinar_completed` → `webinar_completed` (once)."""
        await normalise_completed(self.deps.hub, self.deps.clock, event)

    async def apply_from_room(self, event: ClientWebinarFormSubmitted, d: Delivery) -> None:
        """The room's form is an application to become a partner (Telegram users only)."""
        lead = await LeadEntry.get_or_none(id=event.lead_id)
        user = await User.get_or_none(id=lead.user_id) if lead and lead.user_id else None
        if user is not None:  # one pending application per user: a retry changes nothing
            text = event.fields.get("text", "")
            await apply(self.deps.hub, self.deps.clock, user, via="room", text=text)
