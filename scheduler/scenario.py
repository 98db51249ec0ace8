"""Scenarios are data: an ordered list of steps, validated when the process starts.

    Scenario("welcome", steps=(
        Send("welcome.greeting", buttons=...),
        Wait("10m", setting="welcome_followup_delay", id="followup_delay"),
        Send("welcome.followup"),
    ))

Steps: `Send` a localized message (it waits until the lead has a Telegram chat), `Wait` a
duration, `At` a named moment (a time computed from the data when the step is due, e.g. one
hour before the webinar's start), `WaitUntil` a named condition (with a time-out), `Branch`
on a condition, `Emit` an event of the catalogue, `Stop`. Jumps name a step by its `id`. A
condition is an async function of the run's `RunContext`, a moment one that gives a time
(or None); they live here with the steps, below the engine. A scenario may name a
`prepare`: what its runs read (the webinar of each), read for a whole group of runs
advanced together with one query and left in each run's `memo`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.clock import Clock
from core.events import CATALOGUE
from core.hub import Publisher
from core.settings import Settings, parse_duration
from models import LeadEntry, Priority, ScenarioRun


@dataclass
class RunContext:
    """What a condition may look at. Database reads go through `tx.connection`: the run's
    transaction holds SQLite's only connection while it runs."""

    run: ScenarioRun
    lead: LeadEntry
    clock: Clock
    settings: Settings
    tx: Publisher
    # What the conditions, moments and messages of one advance read once (e.g. the webinar).
    memo: dict[str, Any] = field(default_factory=dict)


Condition = Callable[[RunContext], Awaitable[bool]]
# A time (unix seconds) the run waits for, computed again each time the step is due.
Moment = Callable[[RunContext], Awaitable[float | None]]
# Fills the `memo` of many runs advanced together (one transaction) with one query: what
# each would otherwise read for itself, as `webinar_of` does.
Prepare = Callable[[Sequence[RunContext]], Awaitable[None]]


@dataclass(frozen=True)
class ButtonSpec:
    """`text` is a msgid; `url` may use `{placeholders}` of the message's parameters."""

    text: str
    url: str | None = None
    callback: str | None = None


@dataclass(frozen=True)
class Send:
    text: str  # a msgid in locales/
    buttons: tuple[tuple[ButtonSpec, ...], ...] = ()
    priority: Priority = Priority.NORMAL
    id: str = ""


@dataclass(frozen=True)
class Wait:
    duration: str | float
    # A Settings field that overrides `duration` (e.g. WELCOME_FOLLOWUP_DELAY).
    setting: str | None = None
    id: str = ""


@dataclass(frozen=True)
class At:
    """Wait until the named moment (None, or a time already past: go on at once).

    The moment is computed again whenever the run is due, so waking the run after the
    data changed (a webinar moved) moves the wait."""

    moment: str
    id: str = ""


@dataclass(frozen=True)
class WaitUntil:
    condition: str
    timeout: str | float | None = None
    on_timeout: str = "stop"  # a step id, or "stop"
    check_every: str | float = "1m"
    id: str = ""


@dataclass(frozen=True)
class Branch:
    condition: str
    then: str  # a step id
    otherwise: str | None = None  # a step id; None goes on with the next step
    id: str = ""


@dataclass(frozen=True)
class Emit:
    event: str
    id: str = ""


@dataclass(frozen=True)
class Stop:
    id: str = ""


Step = Send | Wait | At | WaitUntil | Branch | Emit | Stop
STOP = "stop"


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    description: str = ""
    # How long a `Send` waits for the lead to open the bot before the run is cancelled.
    chat_wait: str | float = "7d"
    # Optional: reads what the conditions and messages of a group of its runs need at once.
    prepare: Prepare | None = field(default=None, repr=False, compare=False)
    labels: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", {s.id: i for i, s in enumerate(self.steps) if s.id})

    def index_of(self, label: str) -> int:
        """The step a jump goes to; `stop` is one past the end."""
        return len(self.steps) if label == STOP else self.labels[label]


class ScenarioError(ValueError):
    """A definition that cannot run; raised at start-up, naming scenario and step."""


def validate(
    scenarios: Iterable[Scenario],
    *,
    conditions: Mapping[str, Condition],
    settings: Settings,
    messages: Callable[[str], bool],
    moments: Mapping[str, Moment] | None = None,
) -> None:
    """Check every reference a scenario makes before the first lead depends on it."""
    known_moments = moments or {}
    seen: set[str] = set()
    for sc in scenarios:
        if sc.name in seen:
            raise ScenarioError(f"scenario {sc.name!r} is defined twice")
        seen.add(sc.name)
        if not sc.steps:
            raise ScenarioError(f"scenario {sc.name!r} has no steps")
        ids = [s.id for s in sc.steps if s.id]
        if len(ids) != len(set(ids)) or STOP in ids:
            raise ScenarioError(f"scenario {sc.name!r}: step ids must be unique, not 'stop'")
        _duration(sc.name, "chat_wait", sc.chat_wait)
        for n, step in enumerate(sc.steps):
            where = f"scenario {sc.name!r}, step {n + 1} ({type(step).__name__})"
            if isinstance(step, At) and step.moment not in known_moments:
                raise ScenarioError(f"{where}: unknown moment {step.moment!r}")
            _validate_step(step, sc, where, conditions, settings, messages)


def _validate_step(
    step: Step,
    sc: Scenario,
    where: str,
    conditions: Mapping[str, Condition],
    settings: Settings,
    messages: Callable[[str], bool],
) -> None:
    targets: list[str] = []
    if isinstance(step, Send):
        texts = [step.text] + [b.text for row in step.buttons for b in row]
        for text in texts:
            if not messages(text):
                raise ScenarioError(f"{where}: message {text!r} is missing from locales/")
    elif isinstance(step, Wait):
        _duration(where, "duration", step.duration)
        if step.setting is not None:
            if step.setting not in Settings.model_fields:
                raise ScenarioError(f"{where}: no setting {step.setting.upper()}")
            _duration(where, step.setting.upper(), getattr(settings, step.setting))
    elif isinstance(step, WaitUntil | Branch):
        if step.condition not in conditions:
            raise ScenarioError(f"{where}: unknown condition {step.condition!r}")
        if isinstance(step, WaitUntil):
            _duration(where, "check_every", step.check_every)
            if step.timeout is not None:
                _duration(where, "timeout", step.timeout)
            targets.append(step.on_timeout)
        else:
            targets += [step.then] + ([step.otherwise] if step.otherwise else [])
    elif isinstance(step, Emit) and step.event not in CATALOGUE:
        raise ScenarioError(f"{where}: event {step.event!r} is not in the catalogue")
    for target in targets:
        if target != STOP and target not in sc.labels:
            raise ScenarioError(f"{where}: no step with id {target!r}")


def _duration(where: str, what: str, value: str | float) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ScenarioError(f"{where}: {what}: {exc}") from None


def wait_seconds(step: Wait, settings: Settings) -> float:
    if step.setting is not None:
        return parse_duration(getattr(settings, step.setting))
    return parse_duration(step.duration)
