"""The docs in `docs/` are generated from the code and can never fall behind it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from core.clock import FakeClock
from core.events import CATALOGUE, Event, EventSpec, Status
from core.hub import Delivery, SignalHub
from docsgen import GENERATED_MARK, write_docs
from scheduler.scenario import Branch, Emit, Scenario, Send, Stop


def test_committed_docs_are_what_the_code_says() -> None:
    stale = write_docs(check=True)
    names = ", ".join(p.name for p in stale)
    assert not stale, f"docs/ differs from the code ({names}): run `make docs` and commit docs/"


@dataclass(frozen=True, kw_only=True)
class LeadWaved(Event):
    lead_id: int
    hand: str = "left"


async def wave_back(event: LeadWaved, d: Delivery) -> None:
    """Wave back at the lead.

    Only the first docstring line goes into the docs.
    """


async def notify_partner(event: object, d: Delivery) -> None:
    """Tell the partner about the new lead."""


def test_docs_follow_a_new_event_and_new_subscriptions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = EventSpec("lead_waved", LeadWaved, "A lead waved.", ("web: a hand",), Status.PLANNED)
    monkeypatch.setitem(CATALOGUE, "lead_waved", spec)
    # A hub of our own, so the assertions hold whatever the real consumers are.
    hub = SignalHub(FakeClock())
    hub.subscribe("lead_waved", wave_back, name="tests.wave_back")
    hub.subscribe("core_lead_created", notify_partner, name="tests.notify_partner")

    written = write_docs(out_dir=tmp_path, hub=hub)

    assert {p.name for p in written} >= {
        "WEBINAR_ARCHITECTURE.md",
        "CLIENT_WEBINAR_EVENTS.md",
        "CLIENT_WEBINAR_EVENT_EMITTERS.md",
        "CLIENT_WEBINAR_ACTION_CONSUMERS.md",
        "CLIENT_WEBINAR_SCENARIOS.md",
        "CLIENT_WEBINAR_SCENARIO_SERVICE.md",
    }
    for path in written:
        assert path.read_text().startswith(GENERATED_MARK), path.name
    events = (tmp_path / "CLIENT_WEBINAR_EVENTS.md").read_text()
    assert "## `lead_waved`" in events
    assert "| `hand` | `str` | `'left'` |" in events
    assert "| `lead_id` | `int` | required |" in events
    assert "web: a hand" in (tmp_path / "CLIENT_WEBINAR_EVENT_EMITTERS.md").read_text()

    consumers = (tmp_path / "CLIENT_WEBINAR_ACTION_CONSUMERS.md").read_text()
    assert "| `tests.wave_back` | Wave back at the lead. |" in consumers
    assert "| `tests.notify_partner` | Tell the partner about the new lead. |" in consumers
    not_consumed = consumers.split("## Not consumed yet", 1)[1]
    assert "`core_lead_created`" not in not_consumed
    assert "`lead_waved`" not in not_consumed
    assert "`client_webinar_left`" in not_consumed

    # The flow that needs a consumer of core_lead_created works; without one it is planned.
    architecture = (tmp_path / "WEBINAR_ARCHITECTURE.md").read_text()
    assert "### 2. Partner notice — implemented" in architecture
    # Deterministic: a second run finds nothing to change.
    assert write_docs(check=True, out_dir=tmp_path, hub=hub) == []

    bare = SignalHub(FakeClock())
    bare.subscribe("lead_waved", wave_back, name="tests.wave_back")
    stale = {p.name for p in write_docs(check=True, out_dir=tmp_path, hub=bare)}
    assert {"CLIENT_WEBINAR_ACTION_CONSUMERS.md", "WEBINAR_ARCHITECTURE.md"} <= stale
    write_docs(out_dir=tmp_path, hub=bare)
    architecture = (tmp_path / "WEBINAR_ARCHITECTURE.md").read_text()
    assert "### 2. Partner notice — planned" in architecture
    assert "Missing: nobody consumes `core_lead_created`." in architecture


def test_a_generated_file_the_code_no_longer_makes_is_removed(tmp_path: Path) -> None:
    write_docs(out_dir=tmp_path)
    old = tmp_path / "CONSUMERS.md"
    old.write_text(GENERATED_MARK + " from an older version.\n")
    hand_written = tmp_path / "performance.md"
    hand_written.write_text("# Performance\n")

    assert write_docs(check=True, out_dir=tmp_path) == [old]
    assert old.exists()
    write_docs(out_dir=tmp_path)
    assert not old.exists()
    assert hand_written.read_text() == "# Performance\n"


def test_docs_follow_the_scenario_definitions(tmp_path: Path) -> None:
    from handlers.scenarios import SCENARIOS  # at use: collecting must not import handlers

    nudge = Scenario(
        name="nudge",
        description="Nudge a lead who has not opened the bot.",
        steps=(
            Branch("lead_has_chat", then="done", id="check"),
            Send("Still there?", id="ask"),
            Emit("scenario_start"),
            Stop(id="done"),
        ),
    )
    write_docs(out_dir=tmp_path, scenarios=(*SCENARIOS, nudge))

    scenarios = (tmp_path / "CLIENT_WEBINAR_SCENARIOS.md").read_text()
    assert "### `nudge`" in scenarios
    assert "Nudge a lead who has not opened the bot." in scenarios
    assert "1. **check**: if `lead_has_chat` go to `done`, else the next step" in scenarios
    assert "2. **ask**: send “Still there?” (priority normal)" in scenarios
    assert "3. emit `scenario_start`" in scenarios
    assert "4. **done**: stop" in scenarios
    service = (tmp_path / "CLIENT_WEBINAR_SCENARIO_SERVICE.md").read_text()
    assert f"runs {len(SCENARIOS) + 1} declarative scenario(s)" in service
