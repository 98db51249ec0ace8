"""Consumers that carry webinar changes to the rooms open on them, within seconds.

Whoever changed the webinar — the bot, the command line in another process, the room —
stored an event; the hub of the running service delivers it here, and this pushes it to
the live broadcaster (`core/live.py`), which the rooms' live connections listen to. The
state pushed is read from the database, not taken from the event: a late or repeated
delivery (a restart, a retry) can only push the current truth again.
"""

from __future__ import annotations

from core.chat import is_muted
from core.events import (
    CoreWebinarChatMessageDeleted,
    CoreWebinarChatMuted,
    CoreWebinarChatUnmuted,
    WebinarEvent,
)
from core.hub import Delivery, SignalHub
from core.live import LiveEvent
from core.room import room_view
from handlers.deps import Deps
from models import Webinar

STATE_EVENTS = (
    "core_webinar_set_status",
    "core_webinar_updated",
    "core_webinar_chat_closed",
    "core_webinar_chat_opened",
    "core_webinar_offer_opened",
    "core_webinar_offer_closed",
)


class LiveConsumers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscribe(self, hub: SignalHub) -> None:
        # The subscriber's name is stored with each delivery: renaming one is a migration.
        for event in STATE_EVENTS:
            hub.subscribe(event, self.push_room_state, name=f"push_room_state:{event}")
        hub.subscribe(
            "core_webinar_chat_message_deleted",
            self.push_chat_deletion,
            name="push_chat_deletion",
        )
        for event in ("core_webinar_chat_muted", "core_webinar_chat_unmuted"):
            hub.subscribe(event, self.push_mute_to_viewer, name=f"push_mute_to_viewer:{event}")

    async def push_room_state(self, event: WebinarEvent, d: Delivery) -> None:
        """Open rooms show the webinar's current status, player and chat state."""
        live = self.deps.live
        webinar_id = int(event.webinar_id)
        if not live.connections(webinar_id):
            return
        webinar = await Webinar.get_or_none(id=webinar_id)
        if webinar is not None:
            live.publish(webinar_id, LiveEvent("state", room_view(webinar).to_json()))

    async def push_chat_deletion(self, event: CoreWebinarChatMessageDeleted, d: Delivery) -> None:
        """A deleted chat message disappears from every open room."""
        self.deps.live.publish(
            int(event.webinar_id), LiveEvent("deleted", {"ids": [event.message_id]})
        )

    async def push_mute_to_viewer(
        self, event: CoreWebinarChatMuted | CoreWebinarChatUnmuted, d: Delivery
    ) -> None:
        """The muted (or unmuted) viewer's rooms say so and hide (or show) the input."""
        webinar_id = int(event.webinar_id)
        muted = await is_muted(webinar_id, event.lead_id)  # the truth now, whatever came first
        self.deps.live.publish(
            webinar_id, LiveEvent("me", {"muted": muted}), to=f"lead:{event.lead_id}"
        )
