"""Transport-independent consumers of the hub's events, and the use cases they share."""

from __future__ import annotations

from dataclasses import dataclass

from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.settings import Settings


@dataclass(frozen=True)
class Deps:
    """What consumers may use; bound once by `subscribe_all`, never imported as globals."""

    settings: Settings
    clock: Clock
    links: Links


def subscribe_all(hub: SignalHub, deps: Deps) -> None:
    """The single map of event → consumers (docs/CONSUMERS.md is generated from it)."""
    # The funnel's consumers (partner notices, the welcome scenario) arrive with issue #3.
    del hub, deps
