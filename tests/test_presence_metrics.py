"""`funnel_presence_reports_total{result}`: each presence report from a room is counted once,
by what became of it — counted present, absent (a hidden tab), refused (another lead's or
another webinar's token), or told the webinar is over — and the counts are on `/metrics`."""

from __future__ import annotations

from prometheus_client import generate_latest

from core import metrics
from core.clock import FakeClock
from core.hub import SignalHub
from core.webinars import set_status
from models import WebinarStatus
from tests.room_support import make_webinar
from tests.test_presence import beat, viewer


def counted() -> dict[str, float]:
    return {
        result: metrics.REGISTRY.get_sample_value(
            "funnel_presence_reports_total", {"result": result}
        )
        or 0.0
        for result in metrics.PRESENCE_RESULTS
    }


async def test_every_report_is_counted_by_its_result(
    room, people, clock: FakeClock, hub: SignalHub
) -> None:
    webinar = await make_webinar(hub, clock)
    await set_status(hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
    anna = await viewer(room, people, clock, hub, webinar, "Анна")
    boris = await viewer(room, people, clock, hub, webinar, "Борис")
    before = counted()

    assert (await beat(anna))[0] == 200
    clock.advance(15)
    assert (await beat(anna))[0] == 200
    assert (await beat(anna, state="hidden"))[0] == 200
    assert (await beat(anna, token=boris.data["token"]))[0] == 403
    assert (await beat(anna, token="forged"))[0] == 403
    assert (await beat(anna, state="asleep"))[0] == 400
    await set_status(hub, clock, webinar.id, WebinarStatus.FINISHED, actor=None)
    await hub.drain()
    assert (await beat(boris))[1].get("stop") is True

    after = counted()
    moved = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    assert moved == {
        "present": 2,
        "absent": 1,
        "not_yours": 1,
        "token": 1,
        "bad_request": 1,
        "closed": 1,
    }
    text = generate_latest(metrics.REGISTRY).decode()
    assert "# TYPE funnel_presence_reports_total counter" in text
    assert 'funnel_presence_reports_total{result="session"} ' in text  # there from the start
