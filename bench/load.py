"""The client side of bench/ingest.py: concurrent aiohttp clients posting the form."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Result:
    label: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of accepted submissions
    errors: Counter[str] = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)  # phones answered as stored
    server_cpu: float = 0.0  # CPU seconds the server used during the run
    client_cpu: float = 0.0  # and this process, the clients (the reference is bound by it)

    @property
    def rate(self) -> float:
        return len(self.accepted) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    @staticmethod
    def table(results: list[Result]) -> str:
        head = (
            f"{'':24} {'subs/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
            f"{'ok':>7} {'errors':>7} {'server CPU':>11} {'client CPU':>11}"
        )
        lines = [head]
        for r in results:
            cpu = r.server_cpu / r.seconds * 100 if r.seconds else 0
            client = r.client_cpu / r.seconds * 100 if r.seconds else 0
            lines.append(
                f"{r.label:24} {r.rate:8.0f} {r.pct(50):8.1f} {r.pct(90):8.1f} {r.pct(99):8.1f} "
                f"{len(r.accepted):7} {sum(r.errors.values()):7} {cpu:10.0f}% {client:10.0f}%"
            )
            if r.errors:
                lines.append(f"{'':24} errors: {dict(r.errors.most_common(5))}")
        return "\n".join(lines)


async def drive(
    base_url: str,
    *,
    label: str,
    clients: int,
    total: int,
    seconds: float,
    endpoint: str,
    secret: str,
    cpu: Callable[[], float],
) -> Result:
    """Run `clients` sessions against `base_url` until `total` submissions or `seconds`."""
    result = Result(label)
    sessions = [
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1),  # one keep-alive connection each
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # keep cookies for 127.0.0.1
            timeout=aiohttp.ClientTimeout(total=30),
        )
        for _ in range(clients)
    ]
    try:
        tokens = await asyncio.gather(*(_token(s, base_url, endpoint) for s in sessions))
        numbers = itertools.count()
        cpu_before, client_before, start = cpu(), time.process_time(), time.perf_counter()
        deadline = start + seconds

        async def client(session: aiohttp.ClientSession, token: str) -> None:
            for i in numbers:
                if i >= total or time.perf_counter() > deadline:
                    return
                await _submit(session, base_url, endpoint, token, secret, i, result)

        await asyncio.gather(*(client(s, t) for s, t in zip(sessions, tokens, strict=True)))
        result.seconds = time.perf_counter() - start
        result.server_cpu = cpu() - cpu_before
        result.client_cpu = time.process_time() - client_before
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
    return result


async def _token(session: aiohttp.ClientSession, base_url: str, endpoint: str) -> str:
    if endpoint == "api":
        return ""
    async with session.get(base_url + "/") as resp:
        match = _TOKEN.search(await resp.text())
    if match is None:
        raise SystemExit(f"no CSRF token in {base_url}/ (status {resp.status})")
    return match[1]


async def _submit(
    session: aiohttp.ClientSession,
    base_url: str,
    endpoint: str,
    token: str,
    secret: str,
    i: int,
    result: Result,
) -> None:
    # 916 is a Moscow mobile range: +7 916 NNN-NN-NN is valid for any 7 digits N.
    phone = f"+7916{i:07d}"
    data = {
        "name": f"Bench {i}",
        "phone": phone,
        "consent": "yes",
        "tz": "Europe/Moscow",
        "utm_source": "bench",
    }
    if endpoint == "api":
        ok: tuple[int, ...] = (200, 201)
        url, headers = base_url + "/api/ingest", {"X-Ingest-Secret": secret}
        data["source"] = "bench"
    else:
        ok = (303,)
        url, headers = base_url + "/", {"Origin": base_url}
        data["csrf_token"] = token
    t0 = time.perf_counter()
    try:
        async with session.post(url, data=data, headers=headers, allow_redirects=False) as resp:
            await resp.read()
            status = resp.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        result.errors[type(exc).__name__] += 1
        return
    if status in ok:
        result.latencies.append(time.perf_counter() - t0)
        result.accepted.append(phone)
    else:
        result.errors[f"HTTP {status}"] += 1
