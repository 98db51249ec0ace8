"""The architecture document: layers, flows with the status each has in the code today
(derived, never written by hand), and the event table."""

from __future__ import annotations

from core.events import Status
from docsgen.markdown import bullets, code, header, table
from docsgen.render_events import EVENTS_DOC, consumer_names
from docsgen.render_webinar import webinar_entity
from docsgen.seed import FLOWS, LAYERS, Flow
from docsgen.sources import Sources

ARCHITECTURE_DOC = "WEBINAR_ARCHITECTURE.md"


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
    defined = {scenario.name for scenario in src.scenarios}
    missing += [f"no {code(n)} scenario" for n in flow.scenarios if n not in defined]
    return missing


def architecture_doc(src: Sources) -> list[str]:
    out = header(
        "Webinar architecture",
        [
            "core/events.py",
            "handlers/ (subscribe_all)",
            "models/",
            "core/webinars.py (TRANSITIONS, EDITABLE)",
            "docsgen/seed.py",
        ],
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
    out += webinar_entity(src)
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
