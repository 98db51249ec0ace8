"""Room benchmark: thousands of viewers on one live room's chat, each reporting presence.

    .venv/bin/python bench/room.py [--viewers 5000] [--messages 40] [--rates 2,5,10,20,40]
        [--beat 15] [--idle 30]

Starts the real service (`main.py run`, sandbox mode, a fresh SQLite file) in a
subprocess, creates a live obs webinar with N registered leads and a speaker, and starts a
second subprocess (this script with `--client`) that opens N room connections
(`GET /w/<slug>/room/events`, Server-Sent Events) over raw asyncio sockets, each with its
lead's room session cookie (signed here with the service's SECRET_KEY: N entries through
the personal link would only measure the link). Then the speaker posts chat messages:

- latency: `--messages` messages, two a second; for each, the time until the last viewer
  had it (p50/p99 over messages) and the time per delivery (p50/p99 over all of them);
- rates: each of `--rates` messages/s for `--phase` seconds; per rate, whether every viewer
  got every message, and how fast. The room "sustains" the highest rate at which every
  message reached every viewer with p99 under 500 ms.

Every viewer also reports presence as the open room does (tracker v2: `POST
/w/<slug>/room/presence` with its cookie and personal token, state `visible`) every
`--beat` seconds — the room's real period, 15 s, by default; a smaller one compresses the
time and is printed — spread evenly over the period, from the first connection to the
end, over a keep-alive pool (a browser reuses its connection too: the beat is shorter than
the server's idle timeout). First an idle phase of `--idle` seconds: the viewers only
watch and report; its figure is the service's CPU utilisation (the goal: mostly idle) with
the reports' latency and failures. The chat phases then run with the reports going on.

Memory per viewer is the service's resident memory after the connections minus before,
divided by N. Both processes raise their open-files limit to the hard limit. Times are
wall clock (`time.time()`) in both processes, on the same machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import subprocess
import tempfile
import time
from array import array
from typing import Any

import aiohttp

from bench._setup import ROOT, live_webinar_with_viewers, percentile
from bench.ingest import cpu_seconds, free_port, service_env, wait_ready
from core.presence import BEAT

SECRET = "bench-room-secret-" + "s" * 32
MARK = re.compile(rb"bench-(\d+)-(\d+\.\d+)")


def raise_open_files() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---- the viewers' process -------------------------------------------------------------


class Viewer(asyncio.Protocol):
    """One room connection: counts when each benchmark message arrived."""

    def __init__(self, request: bytes, hub: Viewers) -> None:
        self.request = request
        self.hub = hub
        self.rest = b""
        self.ready = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        text = self.rest + data
        cut = text.rfind(b"\n\n") + 2 if b"\n\n" in text else 0  # whole SSE frames only
        done, self.rest = text[:cut], text[cut:]
        if not self.ready and b"event: state" in done:
            self.ready = True
            self.hub.ready += 1
        for match in MARK.finditer(done):
            self.hub.arrived(int(match[1]), now - float(match[2]))

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub.lost += 1


class Viewers:
    def __init__(self) -> None:
        self.ready = 0
        self.lost = 0
        self.latencies: dict[int, array[float]] = {}

    def arrived(self, seq: int, latency: float) -> None:
        self.latencies.setdefault(seq, array("d")).append(latency)


class Reports:
    """Presence reports: each viewer once per `beat`, spread evenly over it."""

    def __init__(self, base: str, path: str, people: list[list[str]], beat: float) -> None:
        self.url = base + path
        self.people = people
        self.beat = beat
        self.sent = 0
        self.failed = 0
        self.first_error = ""
        self.latencies = array("d")
        self.marks: list[tuple[float, int]] = []  # (time, reports answered) for phases

    async def one(self, session: aiohttp.ClientSession, n: int) -> None:
        cookie, token = self.people[n]
        body = json.dumps({"token": token, "tab": f"tab{n}", "state": "visible"})
        headers = {"Cookie": f"funnel_room={cookie}", "Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            async with session.post(self.url, data=body, headers=headers) as r:
                answer = await r.read()
                if r.status != 200 or b'"present": true' not in answer:
                    self.failed += 1
                    self.first_error = self.first_error or f"{r.status} {answer[:200]!r}"
                    return
        except aiohttp.ClientError as exc:
            self.failed += 1
            self.first_error = self.first_error or repr(exc)
            return
        self.sent += 1
        self.latencies.append(time.perf_counter() - started)

    async def run(self, stop: asyncio.Event) -> None:
        n = len(self.people)
        connector = aiohttp.TCPConnector(limit=200)
        jar = aiohttp.DummyCookieJar()
        async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
            tasks: set[asyncio.Task[None]] = set()
            start = time.perf_counter()
            k = 0  # the next report: viewer k % n, due at start + k * beat / n
            while not stop.is_set():
                now = time.perf_counter()
                while start + k * self.beat / n <= now:
                    task = asyncio.create_task(self.one(session, k % n))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    k += 1
                await asyncio.sleep(0.01)
            await asyncio.gather(*tasks)


async def run_viewers(
    host: str, port: int, path: str, people: list[list[str]], presence: str, beat: float
) -> None:
    raise_open_files()
    loop = asyncio.get_running_loop()
    viewers = Viewers()
    cookies = [cookie for cookie, _ in people]
    reports = Reports(f"http://{host}:{port}", presence, people, beat)
    stop = asyncio.Event()
    gate = asyncio.Semaphore(200)  # connects in flight: the server's backlog is 128+

    async def connect(cookie: str) -> None:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
            f"Cookie: funnel_room={cookie}\r\n\r\n"
        ).encode()
        async with gate:
            await loop.create_connection(lambda: Viewer(request, viewers), host, port)

    started = time.perf_counter()
    await asyncio.gather(*(connect(c) for c in cookies))
    while viewers.ready < len(cookies) and time.perf_counter() - started < 600:
        await asyncio.sleep(0.05)
    print(f"READY {viewers.ready} {time.perf_counter() - started:.1f}", flush=True)
    reporting = asyncio.create_task(reports.run(stop))
    while True:  # the parent asks for the reports' figures so far, then says STOP
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line.startswith("MARK"):
            break
        lat = list(reports.latencies)
        reports.latencies = array("d")
        mark = {"sent": reports.sent, "failed": reports.failed, "first_error": reports.first_error}
        mark |= {"p50": percentile(lat, 50), "p99": percentile(lat, 99), "n": len(lat)}
        print("MARK " + json.dumps(mark), flush=True)
    stop.set()
    await reporting
    summary = {
        "ready": viewers.ready,
        "lost": viewers.lost,
        "reports": {"sent": reports.sent, "failed": reports.failed, "error": reports.first_error},
        "messages": {
            seq: [len(v), percentile(list(v), 50), percentile(list(v), 99), max(v)]
            for seq, v in viewers.latencies.items()
        },
    }
    print("RESULT " + json.dumps(summary), flush=True)


# ---- the benchmark --------------------------------------------------------------------


async def prepare(url: str, tmp: Path, n: int) -> dict[str, Any]:
    """A live obs webinar, N registered leads and a speaker; their room cookies."""
    import main
    from core import db
    from core.clock import SystemClock
    from core.hub import SignalHub
    from core.room_tokens import RoomTokens, TokenKind, link_expires_at
    from core.settings import load_settings
    from models import Role, User
    from web.room_session import RoomSession, cookie_value

    await db.open_database(url)
    try:
        settings = load_settings(database_url=url, data_dir=tmp / "data", secret_key=SECRET)
        clock = SystemClock()
        hub = SignalHub(clock, dispatch=False)  # the service's hub delivers the events
        main.wire(settings, clock, hub)
        webinar, lead_ids = await live_webinar_with_viewers(hub, clock, "Bench room", n)
        now = clock.now()
        speaker = await User.create(
            telegram_id=990_000_001, role=Role.SPEAKER, first_name="Bench", created_at=now,
            updated_at=now,
        )  # fmt: skip
        expires = int(link_expires_at(webinar))

        def cookie(kind: TokenKind, subject: int) -> str:
            return cookie_value(SECRET, RoomSession(webinar.id, kind, subject), expires)

        tokens = RoomTokens(SECRET)
        return {
            "slug": webinar.slug,
            "viewers": [
                [cookie(TokenKind.LEAD, i), tokens.mint(TokenKind.LEAD, webinar.id, i)]
                for i in lead_ids
            ],
            "speaker": cookie(TokenKind.SPEAKER, speaker.id),
        }
    finally:
        await db.close_database()


class Speaker:
    """Posts numbered chat messages as the speaker (no flood limit for speakers)."""

    def __init__(self, base: str, slug: str, cookie: str) -> None:
        self.base, self.slug, self.cookie = base, slug, cookie
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        self.seq = 0
        self.failed = 0
        self.took: dict[int, float] = {}  # seq → seconds the POST took
        self.headers: dict[str, str] = {}

    async def open(self) -> None:
        room = f"{self.base}/w/{self.slug}/room"
        async with self.session.get(room, headers={"Cookie": f"funnel_room={self.cookie}"}) as r:
            assert r.status == 200, r.status
            html = await r.text()
            csrf_cookie = r.cookies["funnel_csrf"].value
        token = re.search(r'"csrf": "([^"]+)"', html)
        assert token, "no CSRF token in the room"
        self.headers = {
            "Cookie": f"funnel_room={self.cookie}; funnel_csrf={csrf_cookie}",
            "X-CSRF-Token": token[1],
            "Accept": "application/json",
        }

    async def post(self) -> int:
        self.seq += 1
        seq = self.seq
        url = f"{self.base}/w/{self.slug}/room/chat"
        sent = time.time()
        body = {"text": f"bench-{seq}-{sent:.6f}"}
        async with self.session.post(url, json=body, headers=self.headers) as r:
            if r.status != 200:
                self.failed += 1
        self.took[seq] = time.time() - sent
        return seq


def reach(results: dict[str, list[float]], seqs: list[int], n: int) -> dict[str, float]:
    """For these messages: how many reached every viewer, and how fast."""
    rows = [results.get(str(s)) for s in seqs]
    complete = [r for r in rows if r and r[0] == n]
    every = [r[3] for r in complete]  # the slowest viewer of each message
    return {
        "messages": len(seqs),
        "complete": len(complete),
        "all_p50": percentile(every, 50) * 1000,
        "all_p99": percentile(every, 99) * 1000,
        "one_p50": percentile([r[1] for r in complete], 50) * 1000,
        "one_p99": percentile([r[2] for r in complete], 99) * 1000,
    }


async def paced(speaker: Speaker, rate: float, seconds: float) -> list[int]:
    """Post `rate` messages a second for `seconds`, each on time (not after the last)."""
    tasks = []
    start = time.perf_counter()
    for i in range(max(1, round(rate * seconds))):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(speaker.post()))
    return list(await asyncio.gather(*tasks))


async def bench(args: argparse.Namespace) -> None:
    hard = raise_open_files()
    print(
        f"bench/room.py: {args.viewers} viewers, {os.cpu_count()} CPUs, open files {hard}, "
        f"Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-room-") as name:
        tmp = Path(name)
        port = free_port()
        env = service_env(tmp, port) | {"SECRET_KEY": SECRET}
        log = (tmp / "service.log").open("wb")
        service = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "run"],
            env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        client: subprocess.Popen[str] | None = None
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_ready(base + "/", service)
            data = await prepare(env["DATABASE_URL"], tmp, args.viewers)
            viewers_file = tmp / "viewers.json"
            presence = f"/w/{data['slug']}/room/presence"
            viewers_file.write_text(
                json.dumps({"people": data["viewers"], "presence": presence, "beat": args.beat})
            )
            before = rss_mib(service.pid)
            client = subprocess.Popen(
                [sys.executable, __file__, "--client", str(port), f"/w/{data['slug']}/room/events",
                 str(viewers_file)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert client.stdout is not None
            assert client.stdin is not None
            ready = await asyncio.to_thread(client.stdout.readline)
            connected, took = ready.split()[1:3]
            await asyncio.sleep(2)  # let the last connections settle
            after = rss_mib(service.pid)
            print(
                f"connected: {connected} of {args.viewers} viewers in {took}s; service RSS "
                f"{before:.0f} → {after:.0f} MiB: {(after - before) * 1024 / args.viewers:.1f} "
                "KiB per viewer"
            )
            pids = (service.pid, client.pid)

            def mark() -> dict[str, Any]:  # the reports' figures since the last mark
                assert client is not None
                assert client.stdin is not None
                assert client.stdout is not None
                client.stdin.write("MARK\n")
                client.stdin.flush()
                line = client.stdout.readline()
                return dict(json.loads(line.removeprefix("MARK ")))

            # Idle: the viewers only watch and report presence.
            await asyncio.to_thread(mark)
            cpu, t0 = [cpu_seconds(p) for p in pids], time.perf_counter()
            await asyncio.sleep(args.idle)
            idle_cpu = cpu_use(pids, cpu, t0)
            idle = await asyncio.to_thread(mark)
            rate = args.viewers / args.beat
            period = ""
            if args.beat == BEAT:
                period = " (the room's real period)"
            elif args.beat < BEAT:
                period = " (compressed: more often than the room)"
            failed = f" (first: {idle['first_error']})" if idle["failed"] else ""
            print(
                f"presence: every viewer reports every {args.beat:g} s{period}: {rate:.0f} "
                f"reports/s; idle {args.idle:g} s: {idle['n']} reports, p50 "
                f"{idle['p50'] * 1000:.1f} ms, p99 {idle['p99'] * 1000:.1f} ms, failed "
                f"{idle['failed']}{failed}"
            )
            print(
                f"service CPU while {args.viewers} viewers watch and report: "
                f"{idle_cpu[0]:.1f} % of one core (viewers' process {idle_cpu[1]:.0f} %)"
            )
            speaker = Speaker(base, data["slug"], data["speaker"])
            await speaker.open()
            phases: list[tuple[str, list[int], float, float]] = []
            cpu, t0 = [cpu_seconds(p) for p in pids], time.perf_counter()
            seqs = []
            for _ in range(args.messages):
                seqs.append(await speaker.post())
                await asyncio.sleep(0.5)
            phases.append(("2/s (latency)", seqs, *cpu_use(pids, cpu, t0)))
            spy = None
            if args.profile:  # py-spy on the service while the rates run (a developer's tool)
                spy_bin = str(Path(sys.executable).parent / "py-spy")
                fmt = "raw" if args.profile.endswith(".txt") else "flamegraph"
                spy = subprocess.Popen(
                    [spy_bin, "record", "-p", str(service.pid), "-o", args.profile, "-r", "100",
                     "-f", fmt, "--nonblocking"],
                )  # fmt: skip
            for rate in args.rates:
                await asyncio.sleep(2)
                cpu, t0 = [cpu_seconds(p) for p in pids], time.perf_counter()
                seqs = await paced(speaker, rate, args.phase)
                phases.append((f"{rate:g}/s", seqs, *cpu_use(pids, cpu, t0)))
            await asyncio.sleep(3)  # the last messages' way to everyone
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            client.stdin.write("STOP\n")
            client.stdin.flush()
            line = await asyncio.to_thread(client.stdout.readline)
            result = json.loads(line.removeprefix("RESULT "))
            await speaker.session.close()
            report(args, result, phases, speaker)
        finally:
            if client is not None:
                client.kill()
            service.terminate()
            service.wait(30)
            log.close()


def cpu_use(pids: tuple[int, int], before: list[float], t0: float) -> tuple[float, float]:
    """CPU % of the service and of the viewers' process since `t0`."""
    took = time.perf_counter() - t0
    service, client = ((cpu_seconds(p) - b) / took * 100 for p, b in zip(pids, before, strict=True))
    return service, client


def report(
    args: argparse.Namespace, result: dict[str, Any], phases: list[Any], speaker: Speaker
) -> None:
    n = args.viewers
    ready, lost = result["ready"], result["lost"]
    print(f"viewers ready {ready}, connections lost {lost}, posts refused {speaker.failed}")
    sent, failed = result["reports"]["sent"], result["reports"]["failed"]
    print(f"presence reports answered {sent}, failed {failed} {result['reports']['error']}")
    header = (
        "| posting rate | messages | reached all | to every viewer p50 | p99 "
        "| per delivery p50 | p99 | the POST p50 | p99 | service CPU | viewers' CPU |"
    )
    print(header)
    print("|" + " --- |" * 11)
    sustained = 0.0
    for label, seqs, cpu, client_cpu in phases:
        r = reach(result["messages"], seqs, n)
        posts = [speaker.took[s] for s in seqs if s in speaker.took]
        print(
            f"| {label} | {r['messages']} | {r['complete']} | {r['all_p50']:.0f} ms "
            f"| {r['all_p99']:.0f} ms | {r['one_p50']:.0f} ms | {r['one_p99']:.0f} ms "
            f"| {percentile(posts, 50) * 1000:.0f} ms | {percentile(posts, 99) * 1000:.0f} ms "
            f"| {cpu:.0f} % | {client_cpu:.0f} % |"
        )
        if "latency" not in label and r["complete"] == r["messages"] and r["all_p99"] < 500:
            sustained = max(sustained, float(label.split("/")[0]))
    print(f"sustained: {sustained:g} messages/s to all {n} viewers with p99 < 500 ms")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        port, path, people = int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
        given = json.loads(people.read_text())
        asyncio.run(
            run_viewers("127.0.0.1", port, path, given["people"], given["presence"], given["beat"])
        )
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=40, help="for the latency phase")
    parser.add_argument(
        "--rates",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[2.0, 5.0, 10.0, 20.0, 40.0],
        help="messages/s to try, comma-separated",
    )
    parser.add_argument("--phase", type=float, default=5.0, help="seconds per rate")
    parser.add_argument(
        "--beat", type=float, default=BEAT, help="seconds between a viewer's presence reports"
    )
    parser.add_argument(
        "--idle", type=float, default=30.0, help="seconds of watching and reporting only"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy the service during the rates (.svg, .txt: raw)"
    )
    asyncio.run(bench(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
