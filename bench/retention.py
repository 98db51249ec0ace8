"""Retention benchmark: a million old rows pruned while the form takes load.

    .venv/bin/python bench/retention.py [--rows 1000000] [--clients 16] [--seconds 15]

Fills a fresh SQLite database with `--rows` finished rows older than RETENTION (sent
outbox messages, and events with their done hub deliveries), starts the real service on
it (`main.py run`, sandbox mode) and drives the form: first `--seconds` without pruning
(the baseline), then the same while the service runs its retention job (started by
SIGUSR1 through a bench-only hook, in the service's own process and event loop, exactly
as the daily job runs). Prints the form's p50/p99 in both phases and how long the
pruning took; the goal is p99 during pruning within 2x of the baseline.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time

from bench._setup import ROOT
from bench.ingest import cpu_seconds, free_port, service_env, wait_ready
from bench.load import Result, drive
from core import db

HOOK = """
import asyncio, json, signal, sys, time
sys.path.insert(0, {root!r})
import main
from core.retention import run_retention

_start = main.start

async def start(rt, **kwargs):
    await _start(rt, **kwargs)
    loop = asyncio.get_running_loop()

    async def prune():
        began = time.perf_counter()
        pruned = await run_retention(rt.clock, rt.settings)
        took = time.perf_counter() - began
        print("PRUNED " + json.dumps(dict(pruned.as_dict(), seconds=took)), flush=True)

    loop.add_signal_handler(signal.SIGUSR1, lambda: loop.create_task(prune()))

main.start = start
sys.exit(main.main(["run"]))
"""


def fill(path: Path, rows: int) -> None:
    """`rows` finished rows, 100 days old: 60% outbox, 40% hub deliveries (2 per event)."""
    old = time.time() - 100 * 86400
    con = sqlite3.connect(path)
    outbox = int(rows * 0.6)
    con.executemany(
        "INSERT INTO outbox (key, chat_id, method, payload, priority, status, attempts,"
        " not_before, created_at, sent_at) VALUES (?, ?, 'sendMessage', '{}', 5, 'sent', 1,"
        " ?, ?, ?)",
        ((f"old:{i}", 1000 + i, old, old, old) for i in range(outbox)),
    )
    events = (rows - outbox) // 2
    con.executemany(
        "INSERT INTO event_log (id, name, payload, created_at) VALUES (?, 'core_lead_created',"
        " '{}', ?)",
        ((i + 1, old) for i in range(events)),
    )
    con.executemany(
        "INSERT INTO event_delivery (event_id, subscriber, status, attempts, next_attempt_at,"
        " done_at) VALUES (?, ?, 'done', 1, ?, ?)",
        ((i // 2 + 1, f"sub{i % 2}", old, old) for i in range(events * 2)),
    )
    con.commit()
    con.close()


async def phase(url: str, label: str, args: argparse.Namespace, pid: int) -> Result:
    return await drive(
        url,
        label=label,
        clients=args.clients,
        total=10**9,
        seconds=args.seconds,
        endpoint="form",
        secret="",
        cpu=lambda: cpu_seconds(pid),
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    print(
        f"bench/retention.py: {args.rows} old rows, {args.clients} clients, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="bench-retention-") as name:
        tmp = Path(name)
        db_file = tmp / "bench.sqlite3"
        await db.migrate(f"sqlite://{db_file}")
        began = time.perf_counter()
        fill(db_file, args.rows)
        print(f"filled in {time.perf_counter() - began:.0f}s")
        port = free_port()
        log = tmp / "service.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-c", HOOK.format(root=str(ROOT))],
                env=service_env(tmp, port),
                cwd=tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_ready(url + "/", proc)
            before = await phase(url, "form, no pruning", args, proc.pid)
            proc.send_signal(signal.SIGUSR1)
            during = await phase(url, "form, pruning", args, proc.pid)
            deadline = time.monotonic() + 600
            while "PRUNED" not in log.read_text() and time.monotonic() < deadline:
                await asyncio.sleep(1)
        finally:
            proc.terminate()
            proc.wait(30)
        print(Result.table([before, during]))
        lines = [line for line in log.read_text().splitlines() if line.startswith("PRUNED")]
        if not lines:
            print("the retention job did not finish:\n" + log.read_text()[-2000:])
            return 1
        pruned = json.loads(lines[0].removeprefix("PRUNED "))
        print(f"pruned: {pruned}")
        ratio = during.pct(99) / before.pct(99)
        print(f"p99 during/before: {ratio:.2f}x ({'ok' if ratio <= 2 else 'over 2x'})")
        overlap = min(pruned["seconds"], args.seconds)
        print(f"pruning overlapped the loaded phase for {overlap:.1f}s of {args.seconds:g}s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
