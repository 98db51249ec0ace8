"""What the generated docs are made of, read from the code itself.

The event catalogue, the subscriptions a real `subscribe_all` makes, the tables of the
models and each top-level package's first docstring line. Nothing here opens a connection:
the hub is only built (never started) and packages are read with `ast`, not imported.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tortoise.models import Model

import models
from core.events import CATALOGUE, EventSpec
from core.hub import SignalHub, Subscription
from handlers import scenarios as defined
from scheduler.scenario import Condition, Scenario

ROOT = Path(__file__).resolve().parents[1]
# Packages the architecture document describes. Only their `__init__` docstrings are read:
# a module-by-module index would go stale with every new file, and fail the docs test.
CODE_PARTS = (
    "main.py",
    "core",
    "models",
    "delivery",
    "handlers",
    "scheduler",
    "bot",
    "web",
    "sandbox",
)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    default: str | None  # None: required


@dataclass(frozen=True)
class Sources:
    events: tuple[EventSpec, ...]  # in catalogue (declaration) order
    subscriptions: dict[str, tuple[Subscription, ...]]  # event → sorted by subscriber name
    tables: frozenset[str]
    packages: dict[str, str]  # top-level package (or main.py) → its docstring's first line
    scenarios: tuple[Scenario, ...]  # the declarative definitions the engine runs
    conditions: dict[str, str]  # condition name → its docstring's first line
    moments: dict[str, str] = dataclasses.field(default_factory=dict)  # the same, of moments

    def consumers(self, event: str) -> tuple[Subscription, ...]:
        return self.subscriptions.get(event, ())

    def spec(self, event: str) -> EventSpec | None:
        return next((s for s in self.events if s.name == event), None)


def fields_of(spec: EventSpec) -> list[Field]:
    out = []
    for f in dataclasses.fields(spec.payload):
        if f.default is not dataclasses.MISSING:
            default: str | None = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = repr(f.default_factory())
        else:
            default = None
        out.append(Field(f.name, str(f.type), default))
    return out


def collect(
    hub: SignalHub,
    scenarios: tuple[Scenario, ...] | None = None,
    conditions: dict[str, Condition] | None = None,
    root: Path = ROOT,
) -> Sources:
    if scenarios is None or conditions is None:
        scenarios = defined.SCENARIOS if scenarios is None else scenarios
        conditions = dict(defined.CONDITIONS) if conditions is None else conditions
    subs: dict[str, list[Subscription]] = {}
    for sub in hub.subscriptions:
        subs.setdefault(sub.event, []).append(sub)
    return Sources(
        events=tuple(CATALOGUE.values()),
        subscriptions={
            event: tuple(sorted(items, key=lambda s: s.name)) for event, items in subs.items()
        },
        tables=frozenset(_tables()),
        packages={part: _first_doc_line(root, part) for part in CODE_PARTS},
        scenarios=tuple(sorted(scenarios, key=lambda sc: sc.name)),
        conditions={name: first_line(fn.__doc__) for name, fn in sorted(conditions.items())},
        moments={name: first_line(fn.__doc__) for name, fn in sorted(defined.MOMENTS.items())},
    )


def first_line(doc: str | None) -> str:
    doc = (doc or "").strip()
    return doc.splitlines()[0] if doc else ""


def _tables() -> Iterable[str]:
    for name in models.__all__:
        obj: Any = getattr(models, name)
        if isinstance(obj, type) and issubclass(obj, Model):
            yield obj.describe(serializable=True)["table"]


def _first_doc_line(root: Path, part: str) -> str:
    path = root / part if part.endswith(".py") else root / part / "__init__.py"
    if not path.is_file():
        return "(not written yet)"
    return first_line(ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))))
