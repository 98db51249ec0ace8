"""Transport-independent consumers and use cases; imports scheduler/ and the layers below."""

from __future__ import annotations

from core.hub import SignalHub
from handlers.broadcasts import BroadcastConsumers
from handlers.deps import Deps
from handlers.funnel import FunnelConsumers
from handlers.partner_webinar_notices import PartnerWebinarConsumers
from handlers.presence import PresenceConsumers
from handlers.reviews import ReviewConsumers
from handlers.webinar_followups import WebinarFollowUps
from handlers.webinar_notices import WebinarNoticeConsumers
from handlers.webinar_reports import WebinarReports
from handlers.webinars_live import LiveConsumers

__all__ = ["Deps", "subscribe_all"]


def subscribe_all(hub: SignalHub, deps: Deps) -> None:
    """The single map of event → consumers (docs/ is generated from what this registers)."""
    FunnelConsumers(deps).subscribe(hub)
    ReviewConsumers(deps).subscribe(hub)
    BroadcastConsumers(deps).subscribe(hub)
    LiveConsumers(deps).subscribe(hub)
    PresenceConsumers(deps).subscribe(hub)
    WebinarFollowUps(deps).subscribe(hub)
    WebinarReports(deps).subscribe(hub)
    WebinarNoticeConsumers(deps).subscribe(hub)
    PartnerWebinarConsumers(deps).subscribe(hub)
