"""Ingest benchmark: the real service, the real form, many concurrent clients.

    .venv/bin/python bench/ingest.py [--clients 64] [--submissions 5000] [--seconds 60]

Starts `main.py run` in a subprocess (sandbox mode, a fresh SQLite file in a temporary
directory, FORM_RATE_LIMIT=0), and a bare aiohttp app (bench/bare_app.py) as the
reference; drives both with the same clients: each one GETs `/` for its CSRF cookie and
token, then POSTs the form with a unique phone number until the submissions (or the
seconds) run out. Prints submissions/s, p50/p90/p99 latency, errors and server CPU.
Then it kills the service with SIGKILL and checks, in the database file, that every
submission answered 303 left its lead and its `core_lead_created` event: stored before
the answer, not merely queued.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/<name>.py` from anywhere: the project root comes first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench._setup import ROOT
from bench.load import Result, drive
from bench.verify import Report, pending_deliveries, verify
from core.settings import Settings

SECRET = "bench-secret-" + "x" * 24  # a throwaway for the webhook mode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(tmp: Path, port: int) -> dict[str, str]:
    # Nothing of the developer's configuration leaks in (no BOT_TOKEN: sandbox mode).
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env |= {
        "DATA_DIR": str(tmp / "data"),
        "DATABASE_URL": f"sqlite://{tmp}/bench.sqlite3",
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "FORM_RATE_LIMIT": "0",
        "INGEST_SECRETS": f"bench={SECRET}",
        # Every lead's notice goes to an admin (no partner in the load): queued, not sent
        # (the sandbox has no chat 1; the sender records Telegram's refusal).
        "ADMIN_IDS": "1",
    }
    return env


async def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode} before answering")
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout:.0f}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profiler(pid: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """py-spy on the service (a developer's tool, not a dependency: `pip install py-spy`)."""
    fmt = {".json": "speedscope", ".txt": "raw"}.get(Path(args.profile).suffix, "flamegraph")
    mode = "--gil" if args.profile_gil else "--idle"
    spy = str(Path(sys.executable).parent / "py-spy")
    cmd = [spy, "record", "-p", str(pid), "-o", args.profile, "-r", "200", "-f", fmt]
    return subprocess.Popen([*cmd, "--nonblocking", "--threads", mode])


async def drain(
    db_file: Path, seconds: float, load: Result, cpu: Callable[[], float], database_url: str = ""
) -> str:
    """Watch the hub work off its backlog (a reader beside the service: WAL allows it),
    and count the leads fully handled: partner notice queued and welcome run started.
    `cpu` reads the service's CPU seconds (the load's share is in `load.server_cpu`)."""

    async def pending() -> int:
        if database_url:
            return await pending_deliveries_pg(database_url)
        return pending_deliveries(db_file)

    start, cpu_start = time.perf_counter(), cpu()
    first = last = await pending()
    while last and time.perf_counter() - start < seconds:
        await asyncio.sleep(0.5)
        last = await pending()
    took = time.perf_counter() - start
    rate = (first - last) / took if took else 0.0
    if database_url:
        leads, noticed, welcomed = await handled_leads_pg(database_url)
    else:
        leads, noticed, welcomed = handled_leads(db_file)
    total = load.seconds + took
    handled = min(noticed, welcomed)
    # On a shared machine the rate follows the CPU the service got; its CPU per lead
    # (the form, the ingest and the consumers together) does not.
    spent = load.server_cpu + cpu() - cpu_start
    per_lead = spent / handled * 1000 if handled else float("nan")
    return (
        f"hub after the load: {first - last} of {first} pending deliveries done in "
        f"{took:.1f}s ({rate:.0f}/s), {last} left\n"
        f"leads fully handled: {handled} of {leads} (notice queued: {noticed}, "
        f"welcome run: {welcomed}) in {total:.1f}s of load and drain "
        f"= {handled / total:.0f} leads/s\n"
        f"service CPU: {spent:.1f}s = {per_lead:.2f} ms per lead fully handled "
        f"({spent / total * 100:.0f}% of a core; at 100% of one: "
        f"{1000 / per_lead if handled else 0:.0f} leads/s)"
    )


async def backlog(tmp: Path, leads: int, database_url: str = "") -> str:
    """The consumers' own pace: `leads` ingested while no service runs (stored only, as
    the command line stores), then the service started on them; from the first lead
    handled to the last, how many leads per second got their notice and welcome run."""
    import main as funnel
    from core import db
    from core.clock import SystemClock
    from core.contact import RawContact, normalise
    from core.hub import SignalHub
    from core.ingest import core_ingest_event
    from core.settings import load_settings

    url = database_url or f"sqlite://{tmp}/bench.sqlite3"
    await db.migrate(url)
    await db.open_database(url)
    settings = load_settings(database_url=url, data_dir=tmp / "data", admin_ids="1")
    hub = SignalHub(SystemClock(), dispatch=False)
    funnel.wire(settings, SystemClock(), hub)

    async def one(n: int) -> None:
        raw = RawContact(source="web_form", name="Анна", phone=f"+7916{5000000 + n}")
        contact = normalise(raw, region="RU", require_phone=True)
        await core_ingest_event(hub, SystemClock(), contact)

    for start in range(0, leads, 200):
        await asyncio.gather(*(one(n) for n in range(start, min(start + 200, leads))))
    await db.close_database()
    port = free_port()
    env = service_env(tmp, port) | {"DATABASE_URL": url}
    with (tmp / "backlog.log").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "run"],
            env=env,
            cwd=tmp,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        first = done = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if database_url:
                _, noticed, welcomed = await handled_leads_pg(database_url)
            else:
                _, noticed, welcomed = handled_leads(tmp / "bench.sqlite3")
            handled = min(noticed, welcomed)
            now = time.perf_counter()
            if handled and first is None:
                first = (now, handled)
            if handled >= leads:
                done = now
                break
            await asyncio.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(30)
    if first is None or done is None:
        return f"backlog: not handled within the time ({handled} of {leads})"
    took = done - first[0]
    rate = (leads - first[1]) / took if took else float("inf")
    return f"backlog of {leads} leads: handled in {took:.1f}s after the first = {rate:.0f} leads/s"


def schedule_webinar(env: dict[str, str], cwd: Path) -> None:
    """A webinar a month away, made as an operator would (`main.py webinar create`)."""
    start = time.strftime("%Y-%m-%dT19:00", time.localtime(time.time() + 30 * 86400))
    command = [sys.executable, str(ROOT / "main.py"), "webinar", "create", "--title", "Bench"]
    command += ["--start", start, "--tz", "Europe/Moscow", "--duration", "90"]
    command += ["--stream-type", "obs", "--stream-url", "https://cdn.example.com/live.m3u8"]
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)


HANDLED = (
    "SELECT (SELECT count(*) FROM lead_entry),"
    " (SELECT count(DISTINCT lead_id) FROM outbox WHERE lead_id IS NOT NULL),"
    " (SELECT count(*) FROM scenario_run WHERE scenario = 'welcome' AND step = 0"
    "  AND status = 'waiting')"
)


async def pg_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """`sql`'s rows on the benchmark's PostgreSQL database (in its `?schema=`)."""
    import asyncpg

    schema = url.split("schema=", 1)[1] if "schema=" in url else "public"
    conn = await asyncpg.connect(url.split("?", 1)[0].replace("postgres://", "postgresql://"))
    try:
        await conn.execute(f"SET search_path TO {schema}")
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def empty_pg_schema(url: str) -> None:
    """A fresh schema for the run: the benchmark's own, never the tests'."""
    import asyncpg

    schema = url.split("schema=", 1)[1] if "schema=" in url else ""
    if not schema or schema == "public":
        raise SystemExit("--database-url needs its own ?schema=… (it is emptied first)")
    conn = await asyncpg.connect(url.split("?", 1)[0].replace("postgres://", "postgresql://"))
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()


async def handled_leads_pg(url: str) -> tuple[int, int, int]:
    ((leads, noticed, welcomed),) = await pg_rows(url, HANDLED)
    return int(leads), int(noticed), int(welcomed)


async def pending_deliveries_pg(url: str) -> int:
    sql = "SELECT count(*) FROM event_delivery WHERE status IN ('pending', 'running')"
    return int((await pg_rows(url, sql))[0][0])


async def verify_pg(url: str, accepted: list[str]) -> Report:
    """`bench.verify.verify` on PostgreSQL: every answered lead and its event stored."""
    leads = dict(await pg_rows(url, "SELECT phone, id FROM lead_entry WHERE phone IS NOT NULL"))
    created = {
        row[0]
        for row in await pg_rows(
            url, "SELECT lead_id FROM event_log WHERE name = 'core_lead_created'"
        )
    }
    missing = [p for p in accepted if p not in leads or leads[p] not in created]
    verdict = "OK" if not missing else f"FAILED, e.g. {missing[:5]}"
    text = f"durability after SIGKILL (PostgreSQL): {verdict} — {len(accepted)} answered as stored"
    return Report(not missing, text)


def handled_leads(db_file: Path) -> tuple[int, int, int]:
    con = sqlite3.connect(db_file, timeout=10)
    try:
        leads = con.execute("SELECT count(*) FROM lead_entry").fetchone()[0]
        noticed = con.execute(
            "SELECT count(DISTINCT lead_id) FROM outbox WHERE lead_id IS NOT NULL"
        ).fetchone()[0]
        welcomed = con.execute(
            "SELECT count(*) FROM scenario_run WHERE scenario = 'welcome' AND step = 0"
            " AND status = 'waiting'"
        ).fetchone()[0]
        return int(leads), int(noticed), int(welcomed)
    finally:
        con.close()


async def measure(
    label: str,
    cmd: list[str],
    env: dict[str, str],
    cwd: Path,
    port: int,
    args: argparse.Namespace,
    log: Path,
) -> tuple[Result, subprocess.Popen[bytes], subprocess.Popen[bytes] | None]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url + "/", proc)
    except BaseException:
        proc.kill()
        print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    spy = profiler(proc.pid, args) if args.profile and "main.py" in cmd[1] else None
    result = await drive(
        url,
        label=label,
        clients=args.clients,
        total=args.submissions,
        seconds=args.seconds,
        endpoint=args.endpoint,
        secret=SECRET,
        cpu=lambda: cpu_seconds(proc.pid),
    )
    if spy is not None and not args.drain:  # with --drain: the consumers' catching up too
        stop_profiler(spy)
    return result, proc, spy


def stop_profiler(spy: subprocess.Popen[bytes]) -> None:
    spy.send_signal(signal.SIGINT)
    spy.wait(30)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients")
    parser.add_argument("--submissions", type=int, default=5000, help="stop after this many")
    parser.add_argument("--seconds", type=float, default=60, help="or after this long")
    parser.add_argument(
        "--endpoint",
        choices=("form", "api"),
        default="form",
        help="POST / (the form, default) or POST /api/ingest (the webhook)",
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the bare app")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the service with py-spy into FILE (.svg, .json: speedscope, .txt: raw)",
    )
    parser.add_argument("--profile-gil", action="store_true", help="only GIL-holding samples")
    parser.add_argument(
        "--drain",
        type=float,
        default=0,
        metavar="SECONDS",
        help="after the load, watch the hub's consumers work off their backlog this long",
    )
    parser.add_argument(
        "--webinar",
        action="store_true",
        help="schedule a webinar first: `/` registers every lead for it (its consumers run too)",
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=0,
        metavar="LEADS",
        help="instead: store LEADS leads first, then time the service's consumers on them",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="run on this database instead of SQLite (postgres://…?schema=bench, emptied first)",
    )
    args = parser.parse_args()
    if args.database_url:
        await empty_pg_schema(args.database_url)
    if args.backlog:
        with tempfile.TemporaryDirectory(prefix="bench-backlog-") as name:
            print(await backlog(Path(name), args.backlog, args.database_url))
        return 0

    print(
        f"bench/ingest.py: {args.clients} clients, up to {args.submissions} submissions "
        f"or {args.seconds:g}s, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as name:
        tmp = Path(name)
        if not args.no_reference:
            port = free_port()
            cmd = [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(port)]
            ref, proc, _ = await measure(
                "bare aiohttp (303)", cmd, dict(os.environ), tmp, port, args, tmp / "bare.log"
            )
            proc.terminate()
            proc.wait(10)
            results.append(ref)
        port = free_port()
        cmd = [sys.executable, str(ROOT / "main.py"), "run"]
        label = "funnel form POST /" if args.endpoint == "form" else "webhook /api/ingest"
        env = service_env(tmp, port)
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        if args.webinar:
            schedule_webinar(env, tmp)
        real, proc, spy = await measure(label, cmd, env, tmp, port, args, tmp / "service.log")
        try:
            if args.drain:
                service = proc.pid
                report_text = await drain(
                    tmp / "bench.sqlite3",
                    args.drain,
                    real,
                    lambda: cpu_seconds(service),
                    args.database_url,
                )
                print(report_text)
        finally:  # also when the drain fails: no service left running after the benchmark
            if spy is not None and spy.poll() is None:
                stop_profiler(spy)
            # No goodbye: what was answered must already be on disk.
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        results.append(real)
        print(Result.table(results))
        for r in results:  # what survives a shared machine: CPU per answered submission
            per = r.server_cpu / len(r.accepted) * 1000 if r.accepted else float("nan")
            print(f"{r.label}: {per:.3f} ms of server CPU per submission")
        if args.database_url:
            report = await verify_pg(args.database_url, real.accepted)
        else:
            report = verify(tmp / "bench.sqlite3", real.accepted)
        print(report.text)
        if real.errors:
            print("server log tail:\n" + (tmp / "service.log").read_text(errors="replace")[-2000:])
    return 0 if report.ok and not real.errors else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
