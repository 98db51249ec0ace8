"""The subscription registry: which subscribers run for an event, under durable names.

A subscriber's name is stored in its delivery rows, so a restarted process finds the
same subscriber for work a dead one left behind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from core.events import spec_of


@dataclass(frozen=True)
class Delivery:
    """What a subscriber knows about the piece of work it is doing."""

    event_id: int
    subscriber: str
    attempt: int

    @property
    def key(self) -> str:
        """Stable across retries and restarts: use it to make effects happen once."""
        return f"{self.event_id}:{self.subscriber}"


Handler = Callable[[Any, Delivery], Awaitable[None]]
# The same work for many events at once (one transaction): a burst's consumers keep up.
BatchHandler = Callable[[list[tuple[Any, Delivery]]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    event: str
    name: str
    handler: Handler
    # Optional: handles a batch in one go; when it raises, each event goes alone through
    # `handler`, so one bad event is retried by itself and the others are not held back.
    batch: BatchHandler | None = None

    @property
    def summary(self) -> str:
        doc = (self.handler.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


class Registry:
    def __init__(self) -> None:
        self._by_event: dict[str, list[Subscription]] = {}
        self._by_name: dict[str, Subscription] = {}

    def add(
        self,
        event_name: str,
        handler: Handler,
        *,
        name: str | None = None,
        batch: BatchHandler | None = None,
    ) -> None:
        """Register `handler` for `event_name`; `name` (default: the function's) is durable."""
        spec_of(event_name)
        sub_name = name or f"{handler.__module__}.{handler.__qualname__}"
        if sub_name in self._by_name:
            raise ValueError(f"subscriber {sub_name!r} is registered twice")
        sub = Subscription(event_name, sub_name, handler, batch)
        self._by_event.setdefault(event_name, []).append(sub)
        self._by_name[sub_name] = sub

    def of(self, event_name: str) -> list[Subscription]:
        """The subscribers of `event_name`, in the order they subscribed."""
        return self._by_event.get(event_name, [])

    def named(self, name: str) -> Subscription | None:
        """The subscriber a delivery row names; None when this version has no such one."""
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[Subscription]:
        return (s for subs in self._by_event.values() for s in subs)
