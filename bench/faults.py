"""The gateway fleet through one fault at a time, under steady load, with figures.

The fleet: 2 ``llmops gateway serve`` processes (PostgreSQL through a relay whose
link can be cut, Redis for limits and the exact response cache, the request log
on, an admin listener each) in front of 2 echo replicas (each a process). A
client sends a steady open-loop stream of chat requests (each prompt different,
so the cache misses) to both gateways in turn; a fault starts 5 s into a phase
and is cleared ``--fault-seconds`` later; the phase goes on 15 s after that.

Per phase it prints the requests sent, those that failed (by status), the
steady team's p99, the 2xx answers missing from the request log, how long a
gateway said not ready, and how long after the fault was cleared the fleet was
whole again (every gateway ready, every replica in rotation and no circuit open,
and no failed request from then on). Phases:

* ``baseline``: no fault;
* ``replica-killed``: SIGKILL, restarted when cleared;
* ``replica-hung``: SIGSTOP, SIGCONT when cleared; also how long until each
  gateway took it out of rotation;
* ``redis-stopped`` with ``limits.fail_open`` off, then on (the gateways are
  restarted between): Redis holds the limits and the response cache;
* ``postgres-refusing``, ``postgres-blackholed``: the database's link refuses
  connections, or takes bytes and answers nothing (keys were seen in the last
  10 minutes);
* ``hostile-bodies``: one key sends 1 MiB bodies of tiny messages from 5
  connections to each gateway, back to back (wrk); the other team's p99 against the baseline's;
* ``bad-keys``: wrk sends well-formed unknown keys as fast as it can.

Then, unless ``--soak-seconds 0``: the saturation rate of the fleet is measured
with wrk (32 connections per gateway), and the fleet is soaked with the fewest
connections that reach half of it; the gateways' resident memory is printed each
minute, and the last against the first (after a minute's warm-up).

    python bench/faults.py [--rate 100] [--fault-seconds 20] [--soak-seconds 600]
                           [--phases baseline,replica-hung,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench import _load, _services
from bench._fleet import Fleet
from gateway import db
from tests.support.netfault import Link, relayed
from tests.support.services import postgres_database

LEAD, SETTLE = 5.0, 15.0
MIB = 1024 * 1024


@dataclass
class Sample:
    at: float
    status: int  # 0: no answer (connection refused, reset or timed out)
    ms: float


@dataclass
class Watch:
    """What the gateways said of themselves, polled through a phase."""

    at: list[float] = field(default_factory=list)
    whole: list[bool] = field(default_factory=list)
    not_ready: float = 0.0
    out_at: dict[str, float] = field(default_factory=dict)
    """For each gateway, when it first reported a replica out of rotation."""


def chat_body(n: int) -> bytes:
    return json.dumps(
        {
            "model": "echo",
            "messages": [{"role": "user", "content": f"Steady request number {n}."}],
            "max_tokens": 16,
        }
    ).encode()


def hostile_body() -> bytes:
    """Just under 1 MiB of tiny messages: the most parsing and counting per byte."""
    one = {"role": "user", "content": "hi"}
    count = (MIB - 200) // len(json.dumps(one) + ", ")
    return json.dumps({"model": "echo", "messages": [one] * count, "max_tokens": 1}).encode()


async def steady(
    session: aiohttp.ClientSession,
    *,
    urls: Sequence[str],
    key: str,
    rate: float,
    seconds: float,
    t0: float,
) -> list[Sample]:
    """Open loop: request ``n`` leaves at ``t0 + n / rate`` whatever happened before."""
    samples: list[Sample] = []
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}

    async def one(n: int) -> None:
        sent = time.monotonic()
        try:
            async with session.post(
                f"{urls[n % len(urls)]}/v1/chat/completions", data=chat_body(n), headers=headers
            ) as r:
                await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        samples.append(Sample(sent - t0, status, (time.monotonic() - sent) * 1000))

    tasks = []
    for n in range(int(rate * seconds)):
        delay = t0 + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(n)))
    await asyncio.gather(*tasks)
    return samples


async def watch(
    session: aiohttp.ClientSession, fleet: Fleet, t0: float, until: float, into: Watch
) -> None:
    """Every 0.1 s (or as fast as they answer): each gateway's readiness, as the kubelet
    would judge it (a 3 s timeout), and its replicas' health and circuits."""
    probe = aiohttp.ClientTimeout(total=3)  # the chart's readiness probe timeout

    async def poll(url: str, admin: str) -> tuple[bool, str]:
        try:
            async with session.get(f"{url}/readyz", timeout=probe) as r:
                ready = r.status == 200
            async with session.get(f"{admin}/metrics", timeout=probe) as r:
                return ready, await r.text()
        except (aiohttp.ClientError, TimeoutError):
            return False, ""

    while (now := time.monotonic()) < until:
        polled = await asyncio.gather(*map(poll, fleet.urls, fleet.admin_urls))
        whole = ready_all = True
        for i, (ready, text) in enumerate(polled):
            out = _gauges(text, "llmops_upstream_healthy", lambda v: v == 0.0)
            if out:
                into.out_at.setdefault(f"gateway-{i}", now - t0)
            circuit = _gauges(text, "llmops_upstream_circuit_open", lambda v: v != 0.0)
            ready_all = ready_all and ready
            whole = whole and ready and bool(text) and not out and not circuit
        into.at.append(now - t0)
        into.whole.append(whole)
        await asyncio.sleep(max(0.0, 0.1 - (time.monotonic() - now)))
        if not ready_all:
            into.not_ready += time.monotonic() - now


def _gauges(text: str, name: str, test: Callable[[float], bool]) -> bool:
    """Whether a sample of the gauge ``name`` passes ``test``."""
    return any(
        line.startswith(name + "{") and test(float(line.rpartition(" ")[2]))
        for line in text.splitlines()
    )


@dataclass
class Phase:
    name: str
    inject: Callable[[], Any] = lambda: None
    clear: Callable[[], Any] = lambda: None
    during: Callable[[float], Any] | None = None
    """Extra load while the fault lasts (given its duration), run in a thread."""
    fail_open: bool = False


def phases(fleet: Fleet, args: argparse.Namespace, workdir: Path) -> list[Phase]:
    hostile_key = fleet.new_key("hostile")
    body = hostile_body()

    def hostile(seconds: float) -> None:
        wrk = _load.find_wrk()
        if wrk is None:
            raise RuntimeError("wrk is needed for the hostile-bodies phase")
        (workdir / "hostile.json").write_bytes(body)
        script = workdir / "hostile.lua"
        script.write_text(
            _HOSTILE_LUA.replace("KEY", hostile_key).replace("BODY", str(workdir / "hostile.json"))
        )
        argv = [wrk, "-t1", "-c5", f"-d{max(1, round(seconds))}s", "-s", str(script)]
        with (workdir / "hostile.out").open("a") as out:
            runs = [
                subprocess.Popen(
                    [*argv, f"{url}/v1/chat/completions"], stdout=out, stderr=subprocess.STDOUT
                )
                for url in fleet.urls
            ]
            for run in runs:
                run.wait()

    def bad_keys(seconds: float) -> None:
        wrk = _load.find_wrk()
        if wrk is None:
            raise RuntimeError("wrk is needed for the bad-keys phase")
        script = workdir / "bad-keys.lua"
        script.write_text(_BAD_KEYS_LUA)
        for url in fleet.urls:
            subprocess.Popen(
                [
                    wrk,
                    "-t1",
                    "-c64",
                    f"-d{max(1, round(seconds))}s",
                    "-s",
                    str(script),
                    f"{url}/v1/chat/completions",
                ],
                stdout=(workdir / "bad-keys.out").open("a"),
                stderr=subprocess.STDOUT,
            ).wait()

    return [
        Phase("baseline"),
        Phase(
            "replica-killed",
            lambda: fleet.signal_replica(1, signal.SIGKILL),
            lambda: fleet.start_replica(1),
        ),
        Phase(
            "replica-hung",
            lambda: fleet.signal_replica(1, signal.SIGSTOP),
            lambda: fleet.signal_replica(1, signal.SIGCONT),
        ),
        Phase("redis-stopped", fleet.stop_redis, fleet.start_redis),
        Phase("redis-stopped-fail-open", fleet.stop_redis, fleet.start_redis, fail_open=True),
        Phase(
            "postgres-refusing",
            lambda: fleet.link.set(Link.REFUSE),
            lambda: fleet.link.set(Link.UP),
        ),
        Phase(
            "postgres-blackholed",
            lambda: fleet.link.set(Link.BLACKHOLE),
            lambda: fleet.link.set(Link.UP),
        ),
        Phase("hostile-bodies", during=hostile),
        Phase("bad-keys", during=bad_keys),
    ]


_HOSTILE_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer KEY"
local file = io.open("BODY", "rb")
wrk.body = file:read("*a")
file:close()
"""

_BAD_KEYS_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model": "echo", "messages": [{"role": "user", "content": "hi"}]}'
local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
request = function()
  local key = {}
  for i = 1, 43 do
    local c = math.random(1, #chars)
    key[i] = chars:sub(c, c)
  end
  wrk.headers["Authorization"] = "Bearer sk-llmops-" .. table.concat(key)
  return wrk.format()
end
"""


async def run_phase(
    fleet: Fleet, phase: Phase, rate: float, fault_seconds: float
) -> dict[str, Any]:
    key = fleet.new_key(f"phase-{phase.name}")
    before = await asyncio.to_thread(log_drops, fleet)
    seconds = LEAD + fault_seconds + SETTLE
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=timeout
    ) as session:
        t0 = time.monotonic()
        seen = Watch()
        watching = asyncio.ensure_future(watch(session, fleet, t0, t0 + seconds, seen))
        load = asyncio.ensure_future(
            steady(session, urls=fleet.urls, key=key, rate=rate, seconds=seconds, t0=t0)
        )
        await asyncio.sleep(LEAD)
        await asyncio.to_thread(phase.inject)
        extra = (
            asyncio.ensure_future(asyncio.to_thread(phase.during, fault_seconds))
            if phase.during
            else None
        )
        await asyncio.sleep(max(0.0, t0 + LEAD + fault_seconds - time.monotonic()))
        if extra is not None:
            await extra
        await asyncio.to_thread(phase.clear)
        cleared = time.monotonic() - t0
        samples = await load
        await watching
    rows = await logged_rows(
        fleet.postgres, f"phase-{phase.name}", sum(200 <= s.status < 300 for s in samples)
    )
    result = summarize(phase.name, samples, seen, cleared, rows)
    drops = await asyncio.to_thread(log_drops, fleet)
    result["log_dropped"] = {
        k: v - before.get(k, 0) for k, v in drops.items() if v > before.get(k, 0)
    }
    return result


def log_drops(fleet: Fleet) -> Counter[str]:
    """Request-log rows the gateways dropped so far, by reason (all teams together)."""
    drops: Counter[str] = Counter()
    name = "llmops_gateway_request_log_dropped_total"
    for admin in fleet.admin_urls:
        with urllib.request.urlopen(f"{admin}/metrics", timeout=5) as reply:
            for line in reply.read().decode().splitlines():
                if line.startswith(name + "{"):
                    reason = line.split('reason="', 1)[1].split('"', 1)[0]
                    drops[reason] += int(float(line.rpartition(" ")[2]))
    return drops


async def logged_rows(postgres: str, team: str, expected: int) -> int:
    """The phase's 2xx rows in the request log, once all are there or none arrived for
    15 s (rows still queued then count as lost)."""
    conn = await asyncpg.connect(postgres.replace("postgresql://", "postgres://"))
    try:
        last, stable_since = -1, time.monotonic()
        while True:
            rows = await conn.fetchval(
                "SELECT count(*) FROM request_log WHERE team = $1 AND status >= 200 AND status < 300",
                team,
            )
            if rows != last:
                last, stable_since = rows, time.monotonic()
            if rows >= expected or time.monotonic() - stable_since > 15:
                return int(rows)
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def summarize(
    name: str, samples: list[Sample], seen: Watch, cleared: float, rows: int
) -> dict[str, Any]:
    failed = Counter(s.status for s in samples if not 200 <= s.status < 300)
    last_failure = max((s.at for s in samples if not 200 <= s.status < 300), default=0.0)
    whole_from = 0.0
    for at, whole in zip(seen.at, seen.whole, strict=True):
        if not whole:
            whole_from = at
    ok = sorted(s.ms for s in samples if 200 <= s.status < 300)
    return {
        "phase": name,
        "sent": len(samples),
        "failed": dict(sorted(failed.items())),
        "p99_ms": percentile(ok, 0.99),
        "log_rows_lost": sum(200 <= s.status < 300 for s in samples) - rows,
        "not_ready_s": round(seen.not_ready, 1),
        "whole_after_s": round(max(0.0, max(whole_from, last_failure) - cleared), 1),
        "out_of_rotation_s": {g: round(at - LEAD, 2) for g, at in seen.out_at.items()},
    }


def percentile(ordered: Sequence[float], q: float) -> float:
    return (
        ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")
    )


def wrk_load(
    fleet: Fleet, workdir: Path, key: str, *, connections: int, seconds: float
) -> _load.LoadResult:
    """wrk on every gateway at once (``connections`` each, every body different, so no
    cache hit); the figures summed (requests) or worst (p99)."""
    wrk = _load.find_wrk()
    if wrk is None:
        raise RuntimeError("wrk is needed for the saturation and the soak")
    script = workdir / "steady.lua"
    script.write_text(_STEADY_LUA.replace("KEY", key))
    argv = [wrk, "-t1", f"-c{connections}", f"-d{round(seconds)}s", "--latency", "-s", str(script)]
    runs = [
        subprocess.Popen([*argv, f"{url}/v1/chat/completions"], stdout=subprocess.PIPE, text=True)
        for url in fleet.urls
    ]
    results = [_load.parse_wrk(run.communicate()[0]) for run in runs]
    return _load.LoadResult(
        requests=sum(r.requests for r in results),
        requests_per_second=sum(r.requests_per_second for r in results),
        p50_ms=max(r.p50_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
    )


def answered_rate(result: _load.LoadResult) -> float:
    """Requests per second answered with a 2xx."""
    if not result.requests:
        return 0.0
    return result.requests_per_second * (1 - result.non_2xx / result.requests)


_STEADY_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer KEY"
local n = 0
request = function()
  n = n + 1
  local body = '{"model": "echo", "max_tokens": 16, "messages": [{"role": "user", '
    .. '"content": "Saturating request ' .. n .. ' ' .. math.random(1e9) .. '."}]}'
  return wrk.format(nil, nil, nil, body)
end
"""


def soak(fleet: Fleet, workdir: Path, key: str, seconds: float) -> dict[str, Any]:
    """The saturation rate (wrk, 32 connections per gateway), then the fewest connections
    that reach half of it, held for ``seconds`` in one-minute runs; the gateways' resident
    memory after each."""
    top = answered_rate(wrk_load(fleet, workdir, key, connections=32, seconds=15))
    connections, rate = 1, 0.0
    while connections < 32:
        rate = answered_rate(wrk_load(fleet, workdir, key, connections=connections, seconds=5))
        if rate >= top / 2:
            break
        connections *= 2
    print(
        f"saturation: {top:.0f} requests/s answered (wrk); soaking with {connections} "
        f"connection(s) per gateway ({rate:.0f} requests/s) for {seconds:.0f} s",
        flush=True,
    )
    memory = [fleet.rss_mib()]
    runs: list[_load.LoadResult] = []
    started = time.monotonic()
    while (left := seconds - (time.monotonic() - started)) > 1:
        runs.append(wrk_load(fleet, workdir, key, connections=connections, seconds=min(60, left)))
        memory.append(fleet.rss_mib())
        print(
            f"  soak {time.monotonic() - started:5.0f} s: {answered_rate(runs[-1]):.0f} "
            f"requests/s, p99 {runs[-1].p99_ms:.1f} ms, RSS {_mib(memory[-1])}",
            flush=True,
        )
    first, last = memory[min(1, len(memory) - 1)], memory[-1]  # after a minute's warm-up
    return {
        "saturation": round(top, 1),
        "connections": connections,
        "rate": round(sum(answered_rate(r) for r in runs) / max(1, len(runs)), 1),
        "failed": sum(r.non_2xx + r.socket_errors for r in runs),
        "rss_first_mib": first,
        "rss_last_mib": last,
        "rss_ratio": [round(b / a, 3) for a, b in zip(first, last, strict=True)],
    }


def _mib(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.0f} MiB" for v in values)


def report(result: dict[str, Any], baseline_p99: float | None) -> None:
    failed = ", ".join(f"{k or 'no answer'}: {v}" for k, v in result["failed"].items()) or "0"
    ratio = f" ({result['p99_ms'] / baseline_p99:.2f}x baseline)" if baseline_p99 else ""
    out = result["out_of_rotation_s"]
    print(
        f"{result['phase']:<24} sent {result['sent']:>6}  failed {failed:<28} "
        f"p99 {result['p99_ms']:7.1f} ms{ratio}  log rows lost {result['log_rows_lost']:>5}"
        + (f" (dropped {result['log_dropped']})" if result["log_dropped"] else "")
        + "  "
        f"not ready {result['not_ready_s']:4.1f} s  whole {result['whole_after_s']:4.1f} s after"
        + (f"  out of rotation after {out}" if out else ""),
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=100.0, help="steady requests per second")
    parser.add_argument("--fault-seconds", type=float, default=20.0)
    parser.add_argument("--soak-seconds", type=float, default=600.0)
    parser.add_argument("--phases", default="", help="comma-separated phase names (all by default)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="llmops-faults-"))
    results: dict[str, Any] = {"phases": []}
    with (
        postgres_database() as postgres,
        _services.Stack(workdir) as stack,
        relayed(postgres) as through,
    ):
        db.migrate(postgres)
        fleet = Fleet(stack, workdir, postgres, through)
        fleet.start_redis()
        for i in range(2):
            fleet.start_replica(i)
        fleet.start_gateways(fail_open=False)
        chosen = [
            p
            for p in phases(fleet, args, workdir)
            if not args.phases or p.name in args.phases.split(",")
        ]
        print(
            f"{args.rate:.0f} requests/s through 2 gateways to 2 echo replicas; faults last "
            f"{args.fault_seconds:.0f} s, from {LEAD:.0f} s into each phase",
            flush=True,
        )
        fail_open = False
        baseline: float | None = None
        for phase in chosen:
            if phase.fail_open != fail_open:
                fleet.start_gateways(fail_open=phase.fail_open)
                fail_open = phase.fail_open
            result = asyncio.run(run_phase(fleet, phase, args.rate, args.fault_seconds))
            results["phases"].append(result)
            report(result, baseline)
            if phase.name == "baseline":
                baseline = result["p99_ms"]
        stack.report_logs("gateway")
        if args.soak_seconds > 0:
            # Fresh gateways: the bad keys' address (this machine's) is throttled for
            # a minute, and memory is measured from a clean start.
            fleet.start_gateways(fail_open=False)
            soaked = results["soak"] = soak(
                fleet, workdir, fleet.new_key("soak"), args.soak_seconds
            )
            print(
                f"soak: {soaked['rate']} requests/s answered, {soaked['failed']} failed; RSS "
                f"{_mib(soaked['rss_first_mib'])} after the first minute, "
                f"{_mib(soaked['rss_last_mib'])} at the end: ratio {soaked['rss_ratio']}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
