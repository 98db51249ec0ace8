"""The scenario documents: the declarative definitions the engine runs, measured against
the seed's list of scenarios, and the service that runs them."""

from __future__ import annotations

from typing import get_args

from docsgen.markdown import bullets, code, header, table
from docsgen.render_events import CONSUMERS_DOC, consumer_names
from docsgen.seed import SCENARIOS as SEED_SCENARIOS
from docsgen.sources import Sources
from scheduler.scenario import At, Branch, Emit, Scenario, Send, Step, Stop, Wait, WaitUntil

SCENARIOS_DOC = "CLIENT_WEBINAR_SCENARIOS.md"
SCENARIO_SERVICE_DOC = "CLIENT_WEBINAR_SCENARIO_SERVICE.md"

STEP_KINDS = {
    "Send": "send a localized message (waits until the lead has a Telegram chat)",
    "Wait": "wait a duration; a setting may override it",
    "At": "wait until a named moment (computed again whenever the run is due)",
    "WaitUntil": "wait until a named condition holds, with an optional time-out",
    "Branch": "jump to a step (by id) on a named condition",
    "Emit": "emit an event of the catalogue",
    "Stop": "end the run",
}


def describe(step: Step) -> str:
    """One line a person can read for one step of a definition."""
    if isinstance(step, Send):
        text = " ".join(step.text.split())
        buttons = [b.text for row in step.buttons for b in row]
        extra = f"; buttons: {', '.join(repr(b) for b in buttons)}" if buttons else ""
        return f"send “{text}”{extra} (priority {step.priority.name.lower()})"
    if isinstance(step, Wait):
        over = f", overridden by `{step.setting.upper()}`" if step.setting else ""
        return f"wait {step.duration}{over}"
    if isinstance(step, At):
        return f"wait until moment `{step.moment}`"
    if isinstance(step, WaitUntil):
        limit = f", time-out {step.timeout} → `{step.on_timeout}`" if step.timeout else ""
        return f"wait until `{step.condition}` (checked every {step.check_every}{limit})"
    if isinstance(step, Branch):
        otherwise = f", else `{step.otherwise}`" if step.otherwise else ", else the next step"
        return f"if `{step.condition}` go to `{step.then}`{otherwise}"
    if isinstance(step, Emit):
        return f"emit `{step.event}`"
    if isinstance(step, Stop):
        return "stop"
    return type(step).__name__


def scenarios_doc(src: Sources) -> list[str]:
    out = header(
        "Client webinar scenarios",
        ["handlers/scenarios.py (SCENARIOS)", "docsgen/seed.py", "handlers/ (subscribe_all)"],
    )
    out += [
        "A scenario is data: an ordered list of steps that the scenario engine runs for one "
        "lead, stored so that a restart loses or repeats no step. The definitions below are "
        "the ones the code runs; the checklist after them is the seed's list of scenarios "
        "and what, in the code, answers each.",
        "",
        "## Definitions",
        "",
    ]
    if not src.scenarios:
        out += ["No scenario is defined yet.", ""]
    for scenario in src.scenarios:
        out += _definition(scenario)
    out += ["## The seed's scenarios", ""]
    defined = {sc.name for sc in src.scenarios}
    rows = []
    for seed in SEED_SCENARIOS:
        if seed.definition in defined:
            status = f"implemented: scenario {code(seed.definition or '')}"
        elif seed.definition is not None:  # to be a declarative scenario, not there yet
            status = f"**planned**: no scenario {code(seed.definition)} is defined yet"
        elif src.consumers(seed.trigger):
            status = f"consumed by {consumer_names(src, seed.trigger)}"
        else:
            status = f"**planned**: nothing consumes {code(seed.trigger)} yet"
        rows.append([seed.name, code(seed.trigger), "; ".join(seed.steps), status])
    out += table(["scenario", "trigger", "steps (seed)", "in the code"], rows)
    return out


def _definition(scenario: Scenario) -> list[str]:
    out = [f"### {code(scenario.name)}", ""]
    if scenario.description:
        out += [scenario.description, ""]
    for number, step in enumerate(scenario.steps, 1):
        label = f"**{step.id}**: " if step.id else ""
        out.append(f"{number}. {label}{describe(step)}")
    out += [
        "",
        f"A `Send` waits up to {scenario.chat_wait} for the lead's chat, then the run "
        "is cancelled.",
        "",
    ]
    return out


def scenario_service_doc(src: Sources) -> list[str]:
    out = header(
        "Client webinar scenario service",
        ["handlers/ (subscribe_all)", "handlers/scenarios.py", "scheduler/scenario.py"],
    )
    subs = sorted(
        (s for subs in src.subscriptions.values() for s in subs),
        key=lambda s: (s.handler.__module__, s.name, s.event),
    )
    modules = sorted({s.handler.__module__ for s in subs})
    engine = (
        f"**implemented**: it runs {len(src.scenarios)} declarative scenario(s)"
        if src.scenarios
        else "**planned**: no scenario is defined yet"
    )
    out += [
        "The service layer consumes events from the hub, runs the scenarios and queues "
        f"Telegram messages. The scenario engine (`scheduler/engine.py`) is {engine}; see "
        f"[{SCENARIOS_DOC}]({SCENARIOS_DOC}).",
        "",
    ]
    out += bullets(
        [
            "Definitions are validated when the process starts: a missing message, an "
            "unknown condition, setting or event, or a jump to no step stops the start.",
            "Runs and their due steps are stored; APScheduler only wakes the claimer, so a "
            "restart loses no step and an overdue step runs promptly after start.",
            f"The signal hub delivers events to {len(subs)} subscription(s) in "
            f"{len(modules)} module(s); see [{CONSUMERS_DOC}]({CONSUMERS_DOC}).",
        ]
    )
    out += ["## Step kinds", ""]
    out += table(
        ["step", "does"],
        ([code(kind.__name__), STEP_KINDS.get(kind.__name__, "—")] for kind in get_args(Step)),
    )
    out += ["## Conditions", ""]
    out += table(
        ["condition", "holds when"],
        ([code(name), doc or "—"] for name, doc in src.conditions.items()),
    )
    out += ["## Moments", ""]
    out += table(["moment", "is"], ([code(name), doc or "—"] for name, doc in src.moments.items()))
    overrides = sorted(
        {
            (step.setting.upper(), str(step.duration), sc.name)
            for sc in src.scenarios
            for step in sc.steps
            if isinstance(step, Wait) and step.setting
        }
    )
    out += ["## Delays an operator can change", ""]
    out += table(
        ["setting", "default", "scenario"], ([code(s), d, code(n)] for s, d, n in overrides)
    )
    out += ["## Consumers by module", ""]
    out += table(
        ["module", "subscriber", "event"],
        ([code(s.handler.__module__), code(s.name), code(s.event)] for s in subs),
    )
    return out
