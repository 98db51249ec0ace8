"""/healthz, /readyz and the Prometheus metrics of the running service (SQLite and
PostgreSQL): ready when all is well, 503 with the reason when the database is unreachable
or a backlog is stale, and the metrics' names as documented."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
from tortoise import Tortoise

from core.clock import FakeClock
from models import EventDelivery, EventRecord
from sandbox import FakeTelegram

TOKEN = "metrics-token-" + "m" * 20


def base(rt: Any) -> str:
    return f"http://127.0.0.1:{rt.runner.addresses[0][1]}"


async def get(url: str, **kwargs: Any) -> tuple[int, Any, str]:
    async with aiohttp.ClientSession() as http, http.get(url, **kwargs) as resp:
        text = await resp.text()
        body = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, body, text


@contextmanager
def database_gone() -> Iterator[None]:
    """The database stops answering: the driver's next connection attempt fails."""
    connection = Tortoise.get_connection("default")
    saved = {k: getattr(connection, k) for k in ("filename", "port") if hasattr(connection, k)}
    for name in saved:
        setattr(connection, name, "/nonexistent/dir/db.sqlite3" if name == "filename" else 1)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(connection, name, value)


async def test_healthy_and_ready_when_all_is_well(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    async with product() as rt:
        health = await get(base(rt) + "/healthz")
        status, body, _ = await get(base(rt) + "/readyz")
    assert health[0] == 200
    assert status == 200, body
    assert body["ready"] is True
    assert body["database"] == "ok"
    assert body["migrations_pending"] == []
    assert body["hub_oldest_undelivered_seconds"] == 0
    assert body["bot_last_api_success_seconds"] is not None


async def test_not_ready_when_the_database_is_unreachable(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    async with product() as rt:
        connection = Tortoise.get_connection("default")
        await connection.close()
        with database_gone():
            health = await get(base(rt) + "/healthz")
            status, body, _ = await get(base(rt) + "/readyz")
            await connection.close()
        # the next query reconnects, as it was
    assert health[0] == 200  # the process still answers: alive, not ready
    assert status == 503
    assert body["database"] == "unreachable"
    assert any("database unreachable" in r for r in body["reasons"])


async def test_not_ready_when_the_hub_backlog_is_stale(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    async with product() as rt:
        # An event from an hour ago whose consumer keeps failing (its retry is later).
        event = await EventRecord.create(
            name="core_lead_created", payload={}, created_at=clock.now() - 3600
        )
        await EventDelivery.create(
            event=event, subscriber="notify_partner", next_attempt_at=clock.now() + 600
        )
        status, body, _ = await get(base(rt) + "/readyz")
    assert status == 503
    assert body["hub_oldest_undelivered_seconds"] >= 3600
    assert any(r.startswith("hub:") for r in body["reasons"])


async def test_metrics_names_behind_the_token_and_on_their_port(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with product(metrics_token=TOKEN, metrics_port=port) as rt:
        await get(base(rt) + "/")  # one request through a named route
        refused = await get(base(rt) + "/metrics")
        wrong = await get(base(rt) + "/metrics", headers={"Authorization": "Bearer nope"})
        status, _, text = await get(
            base(rt) + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        own_port = await get(f"http://127.0.0.1:{port}/metrics")
    assert refused[0] == 401
    assert wrong[0] == 401
    assert status == 200
    assert own_port[0] == 200
    for name in (
        "funnel_ingests_total",
        "funnel_http_request_duration_seconds_bucket",
        "funnel_hub_deliveries_total",
        "funnel_hub_delivery_lag_seconds",
        "funnel_hub_oldest_pending_age_seconds",
        "funnel_bot_api_calls_total",
        "funnel_bot_api_last_success_timestamp_seconds",
        "funnel_outbox_backlog_messages",
        "funnel_outbox_oldest_due_age_seconds",
        "funnel_scenario_step_lateness_seconds",
        "funnel_scenario_oldest_overdue_seconds",
        "funnel_room_viewers",
        "funnel_presence_reports_total",
        "funnel_retention_pruned_rows_total",
    ):
        assert f"\n# TYPE {name.removesuffix('_bucket')} " in text or name in text, name
    assert 'route="form"' in text  # the route's name, never the raw path
    assert 'funnel_outbox_backlog_messages{priority="9"}' in text
    assert 'method="GetMe",outcome="ok"' in text
    assert 'funnel_presence_reports_total{result="present"}' in text


async def test_metrics_are_off_without_a_token(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    async with product() as rt:
        status, _, _ = await get(base(rt) + "/metrics")
    assert status == 404
