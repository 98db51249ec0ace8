"""The webinar entity in the architecture document: its fields (from the model), its
statuses and legal transitions (from `core/webinars.py`), what may be edited in each
status, and the events that change it or hang on it. Read from the code, so a new field,
status or transition shows up here by itself."""

from __future__ import annotations

from typing import Any

import models
import models.webinars as webinar_model
from core.events import WebinarEvent
from core.webinars import EDITABLE, TRANSITIONS
from docsgen.markdown import code, table
from docsgen.render_events import consumer_names
from docsgen.sources import Sources, first_line
from models import Webinar, WebinarRegistration, WebinarStatus

CHAT_EVENTS = "core_webinar_chat_"


def _fields(model: type[Any]) -> list[list[str]]:
    rows = []
    fields = model._meta.fields_map
    for name, field in fields.items():
        if name.endswith("_id") and name.removesuffix("_id") in fields:
            continue  # the column Tortoise adds for a relation once it starts: listed below
        if field.__class__.__name__ == "BackwardFKRelation":
            continue  # rows of other tables that point here
        if field.__class__.__name__ == "ForeignKeyFieldInstance":
            # "models.User": the model is not resolved until Tortoise starts.
            target = getattr(models, field.model_name.rpartition(".")[2])._meta.db_table
            rows.append([code(f"{name}_id"), f"→ {code(target)}", "yes" if field.null else ""])
            continue
        enum = getattr(field, "enum_type", None)
        kind = (
            " | ".join(m.value for m in enum)
            if enum
            else field.__class__.__name__.removesuffix("Field")
        )
        rows.append([code(name), kind, "yes" if field.null else ""])
    return rows


def webinar_entity(src: Sources) -> list[str]:
    out = [
        f"## The webinar entity ({code(Webinar._meta.db_table)})",
        "",
        first_line(webinar_model.__doc__),
        "",
    ]
    out += table(["field", "type", "may be empty"], _fields(Webinar))
    out += [
        f"Registrations ({code(WebinarRegistration._meta.db_table)}): one per lead and "
        "webinar, however many times the form is sent.",
        "",
        "### Statuses and transitions",
        "",
        "Every change goes through `core_webinar_set_status`: a legal transition is applied "
        "once (compare-and-set), anything else is refused with a reason.",
        "",
        "```mermaid",
        "stateDiagram-v2",
        f"    [*] --> {WebinarStatus.SCHEDULED.value}",
    ]
    for status, following in TRANSITIONS.items():
        out += [f"    {status.value} --> {nxt.value}" for nxt in sorted(following)]
        if not following:
            out.append(f"    {status.value} --> [*]")
    out += ["```", ""]
    out += table(
        ["status", "may become", "fields that may still be edited"],
        (
            [
                code(status.value),
                ", ".join(code(s.value) for s in sorted(TRANSITIONS[status])) or "— (final)",
                ", ".join(code(f) for f in sorted(EDITABLE[status])) or "—",
            ]
            for status in WebinarStatus
        ),
    )
    out += ["### Events of a webinar", ""]
    out += table(
        ["event", "status", "summary", "consumed by"],
        (
            [code(s.name), s.status.value, s.summary, consumer_names(src, s.name)]
            for s in src.events
            # The internal chat's moderation events are in the events document.
            if issubclass(s.payload, WebinarEvent) and not s.name.startswith(CHAT_EVENTS)
        ),
    )
    return out
