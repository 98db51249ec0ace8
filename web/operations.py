"""What an operator's tools ask the process: `/healthz`, `/readyz`, Prometheus metrics.

- `GET /healthz`: 200 as long as the process answers (a liveness probe: no database).
- `GET /readyz`: the checks of `core/health.py` as JSON; 503 with the reasons when any
  fails (a load balancer stops sending traffic; an alert fires).
- Metrics: at `/metrics` only with `METRICS_TOKEN` (sent as `Authorization: Bearer …`),
  and/or on a port of their own (`METRICS_PORT`, no token: bind it where only the
  scraper reaches). Gauges describing the database are refreshed at each scrape.
- `measure_requests`: every request's duration by route *name* (`form_submit`,
  `room_page`…), never the raw path, so a scanner's random URLs add no series.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core import health, metrics
from web import keys


@dataclass
class Probe:
    """Set by `main.start` once the bot exists: when it last reached the Bot API, and
    whether it polls (then silence is a fault; a webhook bot may rightly be quiet)."""

    bot_last_ok: Callable[[], float | None] | None = None
    bot_polls: bool = True


PROBE = web.AppKey("probe", Probe)


def setup_operations(app: web.Application) -> Probe:
    app.middlewares.insert(0, measure_requests)  # outermost: it times everything
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")
    app.router.add_get("/metrics", metrics_with_token, name="metrics")
    probe = app[PROBE] = Probe()
    return probe


@web.middleware
async def measure_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    began = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = request.match_info.route
        name = route.name or (route.resource.canonical if route.resource else "unmatched")
        if request.match_info.http_exception is not None:
            name = "unmatched"
        metrics.HTTP_DURATION.labels(name, request.method, f"{status // 100}xx").observe(
            time.perf_counter() - began
        )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def readyz(request: web.Request) -> web.Response:
    app = request.app
    probe = app[PROBE]
    result = await health.check(
        app[keys.SETTINGS],
        app[keys.CLOCK],
        bot_last_ok=probe.bot_last_ok,
        bot_polls=probe.bot_polls,
    )
    return web.json_response(result.as_json(), status=200 if result.ready else 503)


async def scrape(app: web.Application) -> web.Response:
    """Refresh the database gauges and the rooms' counts, then render every metric."""
    await health.check(app[keys.SETTINGS], app[keys.CLOCK])
    live = app.get(keys.LIVE)
    if live is not None:
        rooms = list(live.rooms())
        metrics.ROOM_VIEWERS.set(sum(live.viewers(w) for w in rooms))
        metrics.ROOM_CONNECTIONS.set(sum(live.connections(w) for w in rooms))
    body = generate_latest(metrics.REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def metrics_with_token(request: web.Request) -> web.Response:
    token = request.app[keys.SETTINGS].metrics_token
    if not token:
        raise web.HTTPNotFound()
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
    if not hmac.compare_digest(given, token.encode()):
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
    return await scrape(request.app)


def metrics_app(product: web.Application) -> web.Application:
    """The app for METRICS_PORT: `/metrics` of `product`, without a token."""
    app = web.Application()

    async def handler(request: web.Request) -> web.Response:
        return await scrape(product)

    app.router.add_get("/metrics", handler)
    return app


async def serve_metrics(product: web.Application, host: str, port: int) -> web.AppRunner:
    """Start the METRICS_PORT server; the caller cleans the runner up on stop."""
    runner = web.AppRunner(metrics_app(product), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
