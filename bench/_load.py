"""Closed-loop HTTP load: N connections each POSTing one body back to back for D seconds.

wrk does it when it can be had: a Python client would be the bottleneck on a
small machine. Without wrk an asyncio client stands in, and says so.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.body = [==[{body}]==]
"""


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    """The full chat-completions URL."""
    token: str


@dataclass(frozen=True)
class LoadResult:
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


def find_wrk() -> str | None:
    """wrk on the PATH, installed with apt-get when we are root and it is missing."""
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing it with apt-get ...", flush=True)
        for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
            subprocess.run(argv, check=False, capture_output=True)
        found = shutil.which("wrk")
    return found


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(text: str) -> LoadResult:
    """The figures of ``wrk --latency`` output."""

    def number(pattern: str) -> re.Match[str]:
        match = re.search(pattern, text)
        if match is None:
            raise ValueError(f"no {pattern!r} in wrk's output:\n{text}")
        return match

    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    p50, p99 = number(r"\s50%\s+([\d.]+)(us|ms|s|m)\b"), number(r"\s99%\s+([\d.]+)(us|ms|s|m)\b")
    return LoadResult(
        requests=int(number(r"(\d+) requests in")[1]),
        requests_per_second=float(number(r"Requests/sec:\s+([\d.]+)")[1]),
        p50_ms=_ms(p50[1], p50[2]),
        p99_ms=_ms(p99[1], p99[2]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def _percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _client_load(
    target: Target, body: bytes, connections: int, duration: float
) -> LoadResult:
    headers = {"content-type": "application/json", "authorization": f"Bearer {target.token}"}
    latencies: list[float] = []
    bad = errors = 0

    async def one_connection(session: aiohttp.ClientSession, deadline: float) -> None:
        nonlocal bad, errors
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                async with session.post(target.url, data=body, headers=headers) as response:
                    await response.read()
                    bad += not 200 <= response.status < 400
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
                continue
            latencies.append((time.perf_counter() - sent) * 1000)

    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        deadline = started + duration
        await asyncio.gather(*(one_connection(session, deadline) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        requests_per_second=len(latencies) / elapsed,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        non_2xx=bad,
        socket_errors=errors,
    )


class LoadGenerator:
    """Sends ``body`` to a target at a given concurrency, with wrk or else with aiohttp."""

    def __init__(self, workdir: Path, body: bytes, *, cpus: Sequence[int] = ()) -> None:
        self._workdir = workdir
        self._body = body
        self._cpus = list(cpus)
        self._wrk = find_wrk()

    @property
    def description(self) -> str:
        if self._wrk is None:
            return "asyncio + aiohttp (wrk not available: the client may be the bottleneck)"
        return f"wrk -t1 ({self._wrk})"

    def measure(self, target: Target, *, connections: int, duration: float) -> LoadResult:
        if self._wrk is None:
            return asyncio.run(_client_load(target, self._body, connections, duration))
        script = self._workdir / f"post-{target.name}.lua"
        script.write_text(_LUA.format(token=target.token, body=self._body.decode()))
        argv = [self._wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s"]
        argv += ["--latency", "--timeout", "30s", "-s", str(script), target.url]
        if self._cpus and shutil.which("taskset"):
            argv = ["taskset", "-c", ",".join(map(str, self._cpus)), *argv]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stderr}{done.stdout}")
        return parse_wrk(done.stdout)
