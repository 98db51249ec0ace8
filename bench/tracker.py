"""Tracker v2: how many presence reports per second one process absorbs.

The server is the product's web app (`web.app.create_app`, one process, SQLite WAL) with
a live webinar and N registered leads; the presence flush runs in it every 10 s as in
production. The clients run in a process of their own: C keep-alive connections, each
sending a lead's report (`POST /w/<slug>/room/presence` with its room cookie and token)
and the next as soon as the answer is in, for S seconds. The same clients then drive a
bare aiohttp handler (reads the body, answers the same JSON) in the same run: the gap is
what the tracker costs. Printed: reports/s, p50/p99/max latency, errors, the server's
CPU, and the seconds the flush stored.

    .venv/bin/python bench/tracker.py [--leads 5000 --connections 64 --seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import live_webinar_with_viewers, percentile

SECRET = "bench-" + "k" * 40
HERE = Path(__file__).resolve()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the servers ------------------------------------------------------------------------


async def serve_product(port: int, leads: int, out: Path) -> None:
    from aiohttp import web

    from core import db
    from core.clock import SystemClock
    from core.hub import SignalHub
    from core.links import Links
    from core.live import LiveRooms
    from core.presence import PresenceTracker
    from core.room_tokens import RoomTokens, TokenKind, link_expires_at
    from core.settings import load_settings
    from models import WebinarRegistration
    from web.app import create_app
    from web.room_session import RoomSession, cookie_value

    tmp = Path(tempfile.mkdtemp(prefix="bench-tracker-"))
    url = f"sqlite://{tmp}/bench.sqlite3"
    await db.migrate(url)
    await db.open_database(url)
    settings = load_settings(database_url=url, data_dir=tmp / "data", secret_key=SECRET)
    clock = SystemClock()
    hub = SignalHub(clock, dispatch=False)
    webinar, ids = await live_webinar_with_viewers(hub, clock, "Bench tracker", leads)
    tokens = RoomTokens(SECRET)
    expires = int(link_expires_at(webinar))
    people = [
        (
            cookie_value(SECRET, RoomSession(webinar.id, TokenKind.LEAD, i), expires),
            tokens.mint(TokenKind.LEAD, webinar.id, i),
        )
        for i in ids
    ]
    out.write_text(json.dumps({"path": f"/w/{webinar.slug}/room/presence", "people": people}))
    presence = PresenceTracker()
    links = Links(base_url=settings.base_url, sandbox=False, secret_key=SECRET)
    app = create_app(settings, clock, hub, links, LiveRooms(), presence)

    async def stats(request: web.Request) -> web.Response:
        stored: list[float] = await WebinarRegistration.filter(  # type: ignore[assignment]
            webinar_id=webinar.id
        ).values_list("seconds_present", flat=True)
        return web.json_response(
            {"reports": presence.reports, "stored_seconds": sum(float(s) for s in stored)}
        )

    app.router.add_get("/bench/stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("READY", flush=True)
    await asyncio.Event().wait()


def serve_bare(port: int) -> None:
    from aiohttp import web

    async def report(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True, "present": True})

    app = web.Application()
    app.router.add_post("/w/{slug}/room/presence", report)
    print("READY", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# ---- the clients --------------------------------------------------------------------------


class Client(asyncio.Protocol):
    """One keep-alive connection: a report, its answer, the next report."""

    def __init__(self, requests: list[bytes], results: dict[str, Any], until: float) -> None:
        self.requests, self.results, self.until = requests, results, until
        self.buffer = b""
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        if time.perf_counter() >= self.until:
            self.transport.close()
            return
        self.sent_at = time.perf_counter()
        self.transport.write(random.choice(self.requests))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            ok = head.startswith(b"HTTP/1.1 200") and b'"ok":true' in rest[:length].replace(
                b" ", b""
            )
            self.results["latencies"].append(time.perf_counter() - self.sent_at)
            self.results["errors"] += 0 if ok else 1
            if not ok and "first_error" not in self.results:
                self.results["first_error"] = (head + b" " + rest[:length]).decode()[:300]
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def run_clients(port: int, connections: int, seconds: float, people_file: str) -> None:
    data = json.loads(Path(people_file).read_text())
    path = data["path"]
    requests = []
    for n, (cookie, token) in enumerate(data["people"]):
        body = json.dumps({"token": token, "tab": f"tab{n}", "state": "visible"})
        requests.append(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Cookie: funnel_room={cookie}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}"
            ).encode()
        )
    loop = asyncio.get_running_loop()
    for _ in range(100):  # the bare server says READY just before it listens
        try:
            _, probe = await asyncio.open_connection("127.0.0.1", port)
            probe.close()
            break
        except OSError:
            await asyncio.sleep(0.1)
    results: dict[str, Any] = {"latencies": [], "errors": 0}
    warm = time.perf_counter() + 2  # two seconds of warm-up, not counted
    clients = []
    for _ in range(connections):
        _, client = await loop.create_connection(
            lambda: Client(requests, {"latencies": [], "errors": 0}, warm), "127.0.0.1", port
        )
        clients.append(client)
    await asyncio.gather(*(c.done for c in clients))
    start = time.perf_counter()
    until = start + seconds
    clients = []
    for _ in range(connections):
        _, client = await loop.create_connection(
            lambda: Client(requests, results, until), "127.0.0.1", port
        )
        clients.append(client)
    await asyncio.gather(*(c.done for c in clients))
    elapsed = time.perf_counter() - start
    lat = results["latencies"]
    print(
        "RESULT "
        + json.dumps(
            {
                "count": len(lat),
                "errors": results["errors"],
                "first_error": results.get("first_error"),
                "per_second": len(lat) / elapsed,
                "p50_ms": percentile(lat, 50) * 1000,
                "p99_ms": percentile(lat, 99) * 1000,
                "max_ms": max(lat, default=0) * 1000,
            }
        ),
        flush=True,
    )


# ---- the run --------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(
    server: subprocess.Popen[str], port: int, args: argparse.Namespace, people: str
) -> dict[str, Any]:
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.startswith("READY"):
        raise SystemExit(f"the server did not start: {line!r}")
    before = cpu_seconds(server.pid)
    t0 = time.perf_counter()
    client = subprocess.run(
        [sys.executable, str(HERE), "--client", str(port), str(args.connections),
         str(args.seconds), people],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    cpu = (cpu_seconds(server.pid) - before) / wall
    result: dict[str, Any] | None = next(
        (json.loads(x[7:]) for x in client.stdout.splitlines() if x.startswith("RESULT ")), None
    )
    if result is None:
        raise SystemExit(f"the clients failed: {client.stderr[-2000:]}")
    result["server_cpu"] = cpu
    return result


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"{name:<18} {r['per_second']:>9,.0f}/s  p50 {r['p50_ms']:6.1f} ms  "
        f"p99 {r['p99_ms']:6.1f} ms  max {r['max_ms']:7.1f} ms  errors {r['errors']}  "
        f"server CPU {r['server_cpu']:.0%}"
    )


def bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-tracker-") as tmp:
        people = str(Path(tmp) / "people.json")
        port = free_port()
        product = subprocess.Popen(
            [sys.executable, str(HERE), "--serve", str(port), str(args.leads), people],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            tracker = drive(product, port, args, people)
            import urllib.request

            time.sleep(11)  # one more flush
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/stats") as answer:
                stats = json.loads(answer.read())
        finally:
            product.terminate()
            product.wait()
        bare_port = free_port()
        bare = subprocess.Popen(
            [sys.executable, str(HERE), "--bare", str(bare_port)], stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            reference = drive(bare, bare_port, args, people)
        finally:
            bare.terminate()
            bare.wait()
    print(
        f"presence reports: {args.leads} leads, {args.connections} connections, "
        f"{args.seconds:.0f} s (after 2 s of warm-up), {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    show("tracker (product)", tracker)
    show("bare aiohttp", reference)
    print(
        f"tracker: {stats['reports']:,} reports absorbed, "
        f"{stats['stored_seconds']:,.0f} lead-seconds stored by the flush"
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        asyncio.run(serve_product(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        serve_bare(int(sys.argv[2]))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        port, conns, seconds, people = sys.argv[2:6]
        asyncio.run(run_clients(int(port), int(conns), float(seconds), people))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=15.0)
    bench(parser.parse_args())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
