"""The event documents: events with their payloads, their emitters, their consumers."""

from __future__ import annotations

from core.events import EventSpec
from core.hub import RETRY_DELAYS
from docsgen.markdown import bullets, code, header, table
from docsgen.seed import INTENDED_CONSUMERS, SEED_STATUS
from docsgen.sources import Sources, fields_of

EVENTS_DOC = "CLIENT_WEBINAR_EVENTS.md"
EMITTERS_DOC = "CLIENT_WEBINAR_EVENT_EMITTERS.md"
CONSUMERS_DOC = "CLIENT_WEBINAR_ACTION_CONSUMERS.md"


def consumer_names(src: Sources, event: str) -> str:
    subs = src.consumers(event)
    return ", ".join(code(s.name) for s in subs) if subs else "nobody yet"


def events_doc(src: Sources) -> list[str]:
    out = header("Client webinar events", ["core/events.py", "handlers/ (subscribe_all)"])
    out += [
        "Every event of the seed, as the catalogue declares it. Names are the customer's, "
        "verbatim. A payload is a frozen dataclass; every one carries `timestamp` (unix "
        "seconds), `lead_id` when known and `webinar_id` (a string) for webinar events. An "
        "event is stored in `event_log` before any subscriber sees it.",
        "",
        "*Here* is this code base; *old system* is the customer's WordPress implementation as "
        "the seed describes it.",
        "",
        "## Overview",
        "",
    ]
    out += table(
        ["event", "here", "old system", "summary"],
        (
            [code(s.name), s.status.value, SEED_STATUS.get(s.name, "—"), s.summary]
            for s in src.events
        ),
    )
    for spec in src.events:
        out += _event_section(src, spec)
    return out


def _event_section(src: Sources, spec: EventSpec) -> list[str]:
    out = [
        f"## {code(spec.name)}",
        "",
        f"Status: **{spec.status.value}** · payload class {code(spec.payload.__name__)}",
        "",
        spec.summary,
        "",
    ]
    out += table(
        ["field", "type", "default"],
        (
            [code(f.name), code(f.type), "required" if f.default is None else code(f.default)]
            for f in fields_of(spec)
        ),
    )
    out += bullets(
        [
            "Emitted by: " + "; ".join(spec.emitters),
            f"Consumed by: {consumer_names(src, spec.name)}",
        ]
    )
    return out


def emitters_doc(src: Sources) -> list[str]:
    out = header("Client webinar event emitters", ["core/events.py"])
    out += [
        "Who publishes each event, as declared with it in the catalogue "
        "(`@event(..., emitters=...)`). An inbound adapter calls one Core command; the command "
        "changes state and publishes through the hub in the same database transaction, so an "
        "event exists exactly when the change it reports does.",
        "",
        "## By emitter",
        "",
    ]
    by_emitter: dict[str, list[EventSpec]] = {}
    for spec in src.events:
        for emitter in spec.emitters:
            by_emitter.setdefault(emitter, []).append(spec)
    out += table(
        ["emitter", "events (status)"],
        (
            [emitter, ", ".join(f"{code(s.name)} ({s.status.value})" for s in specs)]
            for emitter, specs in sorted(by_emitter.items())
        ),
    )
    out += ["## By event", ""]
    out += table(
        ["event", "status", "emitted by"],
        ([code(s.name), s.status.value, "; ".join(s.emitters)] for s in src.events),
    )
    return out


def consumers_doc(src: Sources) -> list[str]:
    out = header("Client webinar action consumers", ["handlers/ (subscribe_all)", "core/hub/"])
    delays = ", ".join(f"{d:g}" for d in RETRY_DELAYS)
    out += [
        "Who reacts to each event: the subscriptions `handlers.subscribe_all` really makes. "
        "The description is the first line of the consumer's docstring.",
        "",
        "## How a consumer is run",
        "",
    ]
    out += bullets(
        [
            "The event and one delivery row per subscriber are stored in the transaction that "
            "made the change; subscribers run only after the commit.",
            "Each subscriber runs on its own: one that raises is logged and retried, the "
            f"others go on. Retries wait {delays} seconds; after the last one the delivery is "
            "marked `failed` and kept for the operator.",
            "Work pending or running when the process died is picked up again on start.",
            "A consumer gets a `Delivery` whose `key` is stable across retries and restarts: "
            "it uses the key to make its effect happen once (e.g. one Telegram message).",
        ]
    )
    out += ["## Consumers by event", ""]
    consumed = [s for s in src.events if src.consumers(s.name)]
    if not consumed:
        out += ["No event has a consumer yet.", ""]
    for spec in consumed:
        out += [f"### {code(spec.name)}", ""]
        out += table(
            ["subscriber", "does"],
            ([code(sub.name), sub.summary or "—"] for sub in src.consumers(spec.name)),
        )
    out += ["## Not consumed yet", ""]
    out += table(
        ["event", "status", "intended consumers (seed)"],
        (
            [code(s.name), s.status.value, INTENDED_CONSUMERS.get(s.name, "—")]
            for s in src.events
            if not src.consumers(s.name)
        ),
    )
    return out
