"""Start-up benchmark: a command line command, the service's cold start, its idle memory.

    .venv/bin/python bench/startup.py [--runs 3]

- the commands that do not talk to Telegram (`webinar list`, `users list`, `leads list`,
  `migrate`, `backup`) on a migrated SQLite file: wall time and CPU time (user + system)
  per run — on a shared machine the CPU time is the steadier figure; they import neither
  aiogram nor aiohttp nor the consumers;
- the floor under them: a fresh interpreter importing only Tortoise, the models and the
  settings (what every one of them needs to reach the database);
- `main.py run` (sandbox mode, a fresh SQLite file): from spawning the process to the
  first `200` of `/healthz`, then its resident memory after 5 s idle;
- the import of `aiogram` alone, in a fresh interpreter: the part that is upstream's.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import tempfile
import time

import aiohttp

from bench._setup import ROOT
from bench.ingest import free_port, service_env
from core import db


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    return timed_cpu(cmd, env, cwd)[0]


def timed_cpu(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


COMMANDS = (
    ["webinar", "list"],
    ["users", "list"],
    ["leads", "list"],
    ["migrate"],
    ["backup", "--out", "backup.sqlite3"],
)
FLOOR = "import asyncio, tortoise, models, core.settings"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def cold_start(tmp: Path) -> tuple[float, float]:
    port = free_port()
    env = service_env(tmp, port)
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "run"],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as http:
            while True:
                if proc.poll() is not None:
                    raise SystemExit("the service exited during start-up")
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        ready = time.perf_counter() - began
        await asyncio.sleep(5)
        return ready, rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"bench/startup.py: {args.runs} runs, {os.cpu_count()} CPUs, load average {load:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as name:
        tmp = Path(name)
        await db.migrate(f"sqlite://{tmp}/bench.sqlite3")
        env = service_env(tmp, free_port())
        cli_times: dict[str, list[tuple[float, float]]] = {}
        for command in COMMANDS:
            cli = [sys.executable, str(ROOT / "main.py"), *command]
            cli_times[" ".join(command)] = [timed_cpu(cli, env, tmp) for _ in range(args.runs)]
        floor = [sys.executable, "-c", FLOOR]
        floor_times = [
            timed_cpu(floor, env | {"PYTHONPATH": str(ROOT)}, tmp) for _ in range(args.runs)
        ]
        bare = [sys.executable, "-c", "pass"]
        bare_times = [timed(bare, env, tmp) for _ in range(args.runs)]
        aiogram = [sys.executable, "-c", "import aiogram"]
        aiogram_times = [timed(aiogram, env, tmp) for _ in range(args.runs)]
        starts = [await cold_start(tmp) for _ in range(args.runs)]
    med = statistics.median
    print(f"python -c pass:              {med(bare_times):6.2f} s (median)")
    for name, runs in cli_times.items():
        wall, cpu = med(w for w, _ in runs), med(c for _, c in runs)
        print(f"main.py {name:21} {wall:6.2f} s, CPU {cpu:.2f} s (medians)")
    wall, cpu = med(w for w, _ in floor_times), med(c for _, c in floor_times)
    print(f"floor: {FLOOR}: {wall:.2f} s, CPU {cpu:.2f} s")
    print(f"import aiogram alone:        {med(aiogram_times):6.2f} s (median)")
    print(f"service: spawn to /healthz:  {med(s[0] for s in starts):6.2f} s (median)")
    print(f"service: idle RSS after 5 s: {med(s[1] for s in starts):6.0f} MiB (median)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
