"""The architecture and scenario documents: layers, flows and scenarios, with the status
each has in the code today (derived, never written by hand)."""

from __future__ import annotations

from core.docs.markdown import bullets, code, header, table
from core.docs.render_events import CONSUMERS_DOC, EVENTS_DOC, consumer_names
from core.docs.seed import FLOWS, LAYERS, SCENARIOS, Flow
from core.docs.sources import Sources
from core.events import Status

ARCHITECTURE_DOC = "WEBINAR_ARCHITECTURE.md"
SCENARIOS_DOC = "CLIENT_WEBINAR_SCENARIOS.md"
SCENARIO_SERVICE_DOC = "CLIENT_WEBINAR_SCENARIO_SERVICE.md"


def missing_for(flow: Flow, src: Sources) -> list[str]:
    """What the code still lacks for `flow`; empty means it is implemented."""
    missing = []
    for name in flow.events:
        spec = src.spec(name)
        if spec is None:
            missing.append(f"event {code(name)} is not in the catalogue")
        elif spec.status is not Status.IMPLEMENTED:
            missing.append(f"event {code(name)} is {spec.status.value}")
    missing += [f"nobody consumes {code(e)}" for e in flow.consumed if not src.consumers(e)]
    missing += [f"no {code(t)} table" for t in flow.tables if t not in src.tables]
    return missing


def architecture_doc(src: Sources) -> list[str]:
    out = header(
        "Webinar architecture",
        ["core/events.py", "handlers/ (subscribe_all)", "models/", "core/docs/seed.py"],
    )
    out += [
        "One Python process runs an aiogram bot, an aiohttp web server and an APScheduler "
        "scheduler. They share one Tortoise ORM model (SQLite by default, PostgreSQL "
        "optional) and one signal hub that carries the seed's events between them. `main.py` "
        "is the composition root: nothing else builds a bot, an app or a connection.",
        "",
        "## Layers (the seed's) and where they live",
        "",
    ]
    out += table(
        ["seed layer", "what it does", "where"],
        ([layer.name, layer.does, _where(layer.where, src)] for layer in LAYERS),
    )
    out += bullets(
        [
            "An inbound adapter validates and calls one Core command; it never sends scenario "
            "messages itself.",
            "A consumer reacts to events and may call Core commands or queue Telegram "
            "messages; it never reaches into aiohttp requests or aiogram updates.",
            "Pages and bot screens read Core data; they never compute business state.",
        ]
    )
    out += ["## Flows", ""]
    for number, flow in enumerate(FLOWS, 1):
        missing = missing_for(flow, src)
        status = "implemented" if not missing else "planned"
        out += [f"### {number}. {flow.title} — {status}", "", flow.steps, ""]
        if missing:
            out += [f"Missing: {'; '.join(missing)}.", ""]
    out += [f"## Events (details: [{EVENTS_DOC}]({EVENTS_DOC}))", ""]
    out += table(
        ["event", "status", "emitted by", "consumed by"],
        (
            [code(s.name), s.status.value, "; ".join(s.emitters), consumer_names(src, s.name)]
            for s in src.events
        ),
    )
    return out


def _where(parts: tuple[str, ...], src: Sources) -> str:
    return "; ".join(
        f"{code(p if p.endswith('.py') else p + '/')} — "
        + (src.packages.get(p) or "(no docstring)").rstrip(".")
        for p in parts
    )


def scenarios_doc(src: Sources) -> list[str]:
    out = header(
        "Client webinar scenarios",
        ["core/docs/seed.py", "core/events.py", "handlers/ (subscribe_all)"],
    )
    out += [
        "**The scenario layer is planned.** A later issue adds a scenario engine whose "
        "declarative definitions (ordered steps: send, wait, wait until, branch, emit, stop) "
        "will be the source of this document. Until then it lists the seed's scenarios and "
        "says, from the real subscriptions, whether anything in the code reacts to each "
        "scenario's trigger yet.",
        "",
        "The seed's outline of the client webinar scenarios:",
        "",
        "    Lead registered",
        "     → Client webinar scenarios",
        "       → Reminders before the webinar (conditional)",
        "       → Reminders during the webinar (conditional)",
        "       → Post-webinar routing",
        "         → attended",
        "         → not attended",
        "",
    ]
    for scenario in SCENARIOS:
        spec = src.spec(scenario.trigger)
        trigger_status = spec.status.value if spec else "not in the catalogue"
        subs = src.consumers(scenario.trigger)
        now = (
            f"in code: {code(scenario.trigger)} is consumed by {consumer_names(src, spec.name)}"
            if subs and spec
            else f"**planned**: nothing consumes {code(scenario.trigger)} yet"
        )
        out += [
            f"## {scenario.name}",
            "",
            f"Trigger: {code(scenario.trigger)} ({trigger_status}) — {now}.",
            "",
        ]
        out += [*(f"{i}. {step}" for i, step in enumerate(scenario.steps, 1)), ""]
    return out


def scenario_service_doc(src: Sources) -> list[str]:
    out = header(
        "Client webinar scenario service",
        ["handlers/ (subscribe_all)", "core/events.py", "scheduler/"],
    )
    subs = sorted(
        (s for subs in src.subscriptions.values() for s in subs),
        key=lambda s: (s.handler.__module__, s.name, s.event),
    )
    modules = sorted({s.handler.__module__ for s in subs})
    out += [
        "The service layer runs the scenarios: it consumes events from the hub, waits, and "
        "queues Telegram messages. **The scenario engine itself is planned** (a later issue): "
        "scenarios as data, stored runs, and durable delays in a table of due steps that "
        "APScheduler only wakes. Below is what exists today.",
        "",
        "## What runs today",
        "",
    ]
    out += bullets(
        [
            f"The signal hub delivers events to {len(subs)} subscription(s) in "
            f"{len(modules)} module(s); see [{CONSUMERS_DOC}]({CONSUMERS_DOC}).",
            "The scheduler wakes the hub's sweep, which queues every delivery that is due "
            "(retries after a failure, work left over from a crash).",
            f"`scenario_start` is {_status(src, 'scenario_start')}; it is consumed by "
            f"{consumer_names(src, 'scenario_start')}.",
        ]
    )
    out += ["## Consumers by module", ""]
    if not subs:
        return [*out, "No consumer is registered yet: `handlers.subscribe_all` subscribes nothing."]
    return out + table(
        ["module", "subscriber", "event"],
        ([code(s.handler.__module__), code(s.name), code(s.event)] for s in subs),
    )


def _status(src: Sources, event: str) -> str:
    spec = src.spec(event)
    return spec.status.value if spec else "not in the catalogue"
