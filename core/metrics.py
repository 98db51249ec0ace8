"""The service's Prometheus metrics (prometheus-client), in a registry of our own.

Metrics are the one kind of module-level state here, as Prometheus' client libraries
intend: each instrumented place increments its counter without a handle passed down
through every layer. They live in `REGISTRY`, not the library's global default, so
nothing else a library registers leaks into `/metrics`. Names follow Prometheus'
conventions: a `funnel_` prefix, units in names (`_seconds`), `_total` on counters;
labels have bounded values (a route's name, a subscriber, a priority), never a lead id.
The gauges that describe the database (backlogs, lags) are set when scraped
(`core/health.py`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LAG_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)

INGESTS = Counter(
    "funnel_ingests_total",
    "Submissions ingested, by source and result (created, matched, invalid, refused).",
    ["source", "result"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "funnel_http_request_duration_seconds",
    "HTTP requests by route name, method and status class.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
HUB_DELIVERIES = Counter(
    "funnel_hub_deliveries_total",
    "Hub deliveries run, by subscriber and result (done, retry, failed).",
    ["subscriber", "result"],
    registry=REGISTRY,
)
HUB_LAG = Histogram(
    "funnel_hub_delivery_lag_seconds",
    "From an event's timestamp to its subscriber finishing with it.",
    ["subscriber"],
    buckets=LAG_BUCKETS,
    registry=REGISTRY,
)
HUB_OLDEST_PENDING = Gauge(
    "funnel_hub_oldest_pending_age_seconds",
    "Age of the oldest event with a delivery not yet done (0: none).",
    registry=REGISTRY,
)
BOT_API_CALLS = Counter(
    "funnel_bot_api_calls_total",
    "Bot API calls by method and outcome (ok, retry_after (429), forbidden (403), error).",
    ["method", "outcome"],
    registry=REGISTRY,
)
BOT_API_LAST_OK = Gauge(
    "funnel_bot_api_last_success_timestamp_seconds",
    "When the bot's last Bot API call succeeded (unix time).",
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "funnel_outbox_backlog_messages",
    "Outbox messages waiting to be sent, by priority (0 critical, 5 normal, 9 bulk).",
    ["priority"],
    registry=REGISTRY,
)
OUTBOX_OLDEST_DUE = Gauge(
    "funnel_outbox_oldest_due_age_seconds",
    "How long the oldest message that may be sent now has waited, by priority.",
    ["priority"],
    registry=REGISTRY,
)
SCENARIO_LATENESS = Histogram(
    "funnel_scenario_step_lateness_seconds",
    "How late a scenario step ran after its due time, by scenario.",
    ["scenario"],
    buckets=LAG_BUCKETS,
    registry=REGISTRY,
)
SCENARIO_OVERDUE = Gauge(
    "funnel_scenario_oldest_overdue_seconds",
    "How far past its due time the oldest waiting scenario step is (0: none).",
    registry=REGISTRY,
)
ROOM_VIEWERS = Gauge(
    "funnel_room_viewers",
    "People in webinar rooms now (distinct leads), over all open rooms.",
    registry=REGISTRY,
)
ROOM_CONNECTIONS = Gauge(
    "funnel_room_connections",
    "Open live connections of webinar rooms.",
    registry=REGISTRY,
)
PRESENCE_REPORTS = Counter(
    "funnel_presence_reports_total",
    "Presence reports from webinar rooms (tracker v2), by result: present, absent (a "
    "hidden or closed tab), closed (the webinar is over), or refused (token, not_yours, "
    "session, bad_request).",
    ["result"],
    registry=REGISTRY,
)
PRESENCE_RESULTS = ("present", "absent", "closed", "token", "not_yours", "session", "bad_request")
for _result in PRESENCE_RESULTS:  # shown at 0 from the start: a rate needs a first sample
    PRESENCE_REPORTS.labels(_result)
RETENTION_PRUNED = Counter(
    "funnel_retention_pruned_rows_total",
    "Rows pruned (or links and keys forgotten) by the retention job, by kind.",
    ["kind"],
    registry=REGISTRY,
)
