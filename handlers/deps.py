"""What consumers may use; bound once by `subscribe_all`, never imported as globals."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.live import LiveRooms
from core.presence import PresenceTracker
from core.settings import Settings
from core.texts import Texts
from scheduler.engine import ScenarioEngine


@dataclass(frozen=True)
class Deps:
    settings: Settings
    clock: Clock
    links: Links
    hub: SignalHub
    engine: ScenarioEngine
    texts: Texts
    # The rooms open in this process (`core/live.py`): consumers push webinar changes there.
    live: LiveRooms = field(default_factory=LiveRooms)
    # Who is in which room, for how long (`core/presence.py`): the stop flushes it.
    presence: PresenceTracker = field(default_factory=PresenceTracker)
