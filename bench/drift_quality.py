"""How often the drift check calls drift, per scenario: power where traffic changed,
false alarms where it did not; and what one check over 10,000 requests costs.

Pools of labeled traffic (``bench/data/drift/SET/``, each line a prompt and the answer
it got), written before any rule was tuned:

- ``base``: one deployment's ordinary traffic (short support messages);
- ``domain``: another domain, with much longer messages;
- ``topic``: another topic, at the base traffic's length;
- ``french``: the base traffic's kind of messages, in French;
- ``long``: the base traffic's kind of messages, with long context.

``sealed`` is the evaluation set (checksums in ``sealed.sha256``); ``tuning`` the set the
options were chosen on. Each draw takes a reference window of ``--reference`` base
requests and a current window of ``--current`` other requests (disjoint), as request-log
rows: token counts from MiniLM's tokenizer, latencies from a model of a replica (longer
prompts and answers take longer, log-normal noise), 1% of requests failed, 10% answered
from the cache. Scenarios:

    no_drift    base against base
    domain      the whole current window from ``domain``
    mix10/25/50 that share of the current window from ``topic``, the rest base
    topic       the whole current window from ``topic`` (same length)
    language    the whole current window from ``french``
    length      the whole current window from ``long`` (same topics, longer)
    latency     base against base, the current window served 1.6 times slower

Prints, per scenario, the share of draws flagged as data drift and as operational drift
(95% Wilson intervals) and which data signals fired. Targets: data-drift false alarms
at most 5% on ``no_drift`` and ``latency``; at least 95% flagged on ``mix25`` and
``topic``. Then the cost: a ``DriftChecker`` reading two windows of 10,000 requests from a
SQLite request log, first check (MiniLM loads) and second, and the process's peak memory.

    .venv/bin/python bench/drift_quality.py [--set tuning|sealed] [--draws 100]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

import numpy as np

from bench._stats import wilson
from llmops.monitoring import drift
from llmops.monitoring.drift import DriftCheckOptions
from llmops.monitoring.embeddings import MiniLMEmbedder, Vectors
from llmops.monitoring.signals import Kind
from llmops.requestlog.table import RequestRecord, request_log

DATA = Path(__file__).parent / "data" / "drift"
POOLS = ("base", "domain", "topic", "french", "long")
START = datetime(2026, 11, 2, tzinfo=UTC)


class CachedEmbedder:
    """MiniLM, each distinct text embedded once (the same vectors, computed once)."""

    def __init__(self) -> None:
        self._inner = MiniLMEmbedder()
        self._seen: dict[str, np.ndarray[Any, Any]] = {}

    def embed(self, texts: Sequence[str]) -> Vectors:
        new = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if new:
            self._seen.update(zip(new, self._inner.embed(new), strict=True))
        return np.stack([self._seen[t] for t in texts]).astype(np.float32)


def load(which: str) -> dict[str, list[dict[str, str]]]:
    folder = DATA / which
    if which == "sealed":
        for line in (DATA / "sealed.sha256").read_text().splitlines():
            digest, name = line.split()
            if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
                raise SystemExit(f"{folder / name} does not match its sealed checksum")
    return {
        name: [json.loads(line) for line in (folder / f"{name}.jsonl").read_text().splitlines()]
        for name in POOLS
    }


def tokenizer() -> Callable[[str], int]:
    from llmops import minilm

    tok = minilm.load().tokenizer
    tok.model_max_length = 1 << 20  # counting, not encoding: long texts are fine
    return lambda text: len(tok(text, add_special_tokens=False)["input_ids"])


def rows(
    items: Sequence[dict[str, str]],
    count: Callable[[str], int],
    rng: random.Random,
    *,
    slower: float = 1.0,
) -> list[RequestRecord]:
    """Request-log rows for ``items`` as a replica would have served them."""
    out = []
    for i, item in enumerate(items):
        prompt_tokens, completion_tokens = count(item["prompt"]), count(item["completion"])
        failed = rng.random() < 0.01
        hit = not failed and rng.random() < 0.10
        latency = (80 + 0.3 * prompt_tokens + 25 * completion_tokens) * rng.lognormvariate(0, 0.25)
        ttft = (60 + 0.3 * prompt_tokens) * rng.lognormvariate(0, 0.3)
        if hit:
            latency, ttft = rng.lognormvariate(1.5, 0.4), rng.lognormvariate(1.2, 0.4)
        out.append(
            RequestRecord(
                at=START + timedelta(seconds=i),
                team="team-a",
                model="support",
                model_version="1",
                upstream="http://replica:8000/v1",
                endpoint="chat/completions",
                status=502 if failed else 200,
                prompt_tokens=prompt_tokens,
                completion_tokens=0 if failed else completion_tokens,
                latency_ms=latency * (1 if hit else slower),
                ttft_ms=None if failed else ttft * (1 if hit else slower),
                cache="hit" if hit else "miss",
                prompt_text=item["prompt"],
                completion_text=None if failed else item["completion"],
            )
        )
    return out


Scenario = tuple[str, str | None, float, float]
"""Name, the pool the current window draws from, its share, how much slower."""
SCENARIOS: list[Scenario] = [
    ("no_drift", None, 0.0, 1.0),
    ("domain", "domain", 1.0, 1.0),
    ("mix10", "topic", 0.10, 1.0),
    ("mix25", "topic", 0.25, 1.0),
    ("mix50", "topic", 0.50, 1.0),
    ("topic", "topic", 1.0, 1.0),
    ("language", "french", 1.0, 1.0),
    ("length", "long", 1.0, 1.0),
    ("latency", None, 0.0, 1.6),
]
TARGETS = {
    "no_drift": ("<=", 0.05),
    "latency": ("<=", 0.05),
    "mix25": (">=", 0.95),
    "topic": (">=", 0.95),
}


def draw(
    pools: dict[str, list[dict[str, str]]],
    scenario: Scenario,
    args: argparse.Namespace,
    rng: random.Random,
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    _, other, share, _ = scenario
    base = rng.sample(pools["base"], args.reference + args.current)
    reference, current = base[: args.reference], base[args.reference :]
    if other is not None:
        taken = round(share * args.current)
        current = current[: args.current - taken] + rng.sample(pools[other], taken)
        rng.shuffle(current)
    return reference, current


def quality(args: argparse.Namespace) -> None:
    pools = load(args.set)
    print(
        f"set {args.set}: "
        + ", ".join(f"{k} {len(v)}" for k, v in pools.items())
        + f"; windows {args.reference} and {args.current} requests; {args.draws} draws each"
    )
    count = tokenizer()
    embedder = CachedEmbedder()
    options = DriftCheckOptions()
    if args.alpha is not None:
        options = replace(options, alpha=args.alpha)
    if args.permutations is not None:
        options = replace(options, permutations=args.permutations)
    print(f"alpha {options.alpha}, {options.permutations} permutations")
    rng = random.Random(args.seed)
    print(f"{'scenario':<10} {'data drift':>26}   {'operational drift':>26}   data signals fired")
    started = time.perf_counter()
    verdicts: dict[str, float] = {}
    for scenario in SCENARIOS:
        name, slower = scenario[0], scenario[3]
        data = ops = 0
        fired: Counter[str] = Counter()
        for _ in range(args.draws):
            reference, current = draw(pools, scenario, args, rng)
            result = drift.check(
                rows(reference, count, rng),
                rows(current, count, rng, slower=slower),
                options,
                embedder,
            )
            data += result.data_drifted
            ops += result.operational_drifted
            fired.update(result.drifted(Kind.DATA))
        verdicts[name] = data / args.draws
        signals = ", ".join(f"{k} {v}" for k, v in fired.most_common()) or "-"
        print(f"{name:<10} {rate(data, args.draws)}   {rate(ops, args.draws)}   {signals}")
    print(f"({time.perf_counter() - started:.0f} s)")
    for name, (how, target) in TARGETS.items():
        got = verdicts[name]
        ok = got <= target if how == "<=" else got >= target
        print(
            f"target {name}: data drift {got:.1%} {how} {target:.0%}: {'met' if ok else 'NOT MET'}"
        )


def rate(hits: int, n: int) -> str:
    low, high = wilson(hits, n)
    return f"{hits:>3}/{n} {hits / n:6.1%} [{low:5.1%}, {high:6.1%}]"


def write_log(args: argparse.Namespace, url: str) -> None:
    """Two windows of ``--cost-rows`` requests each in a SQLite request log: a day of base
    traffic, then a day with the other topic mixed in."""
    from gateway import db

    pools = load(args.set)
    count = tokenizer()
    rng = random.Random(args.seed)
    n = args.cost_rows
    reference = rows(rng.choices(pools["base"], k=n), count, rng)
    current = rows(rng.choices(pools["base"] + pools["topic"], k=n), count, rng)
    current = [replace(r, at=r.at + timedelta(days=1)) for r in current]
    db.migrate(url)

    async def insert() -> None:
        engine = db.create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(request_log.insert(), [r.row() for r in reference + current])
        await engine.dispose()

    asyncio.run(insert())


def cost(args: argparse.Namespace) -> None:
    """Two checks of the log's two windows as ``llmops drift monitor`` runs them (one
    checker, MiniLM loaded once), in a process that does nothing else."""
    from llmops.monitoring.checker import DriftChecker
    from llmops.monitoring.reader import RequestLogReader, Window, engine_for
    from llmops.monitoring.settings import DeploymentSettings, PolicySettings

    def rss(field: str = "VmHWM") -> float:
        """The process's resident memory in MiB: now (``VmRSS``) or at its peak (``VmHWM``)."""
        status = Path("/proc/self/status").read_text().splitlines()
        return next(float(line.split()[1]) / 1024 for line in status if line.startswith(field))

    async def work() -> dict[str, float]:
        reader = RequestLogReader(engine_for(args.cost_database))
        embedder = MiniLMEmbedder()
        embedder.embed(["warm up"])
        found = {"loaded_mib": rss("VmRSS"), "loaded_peak_mib": rss()}
        checker = DriftChecker(reader, embedder=embedder)
        target = DeploymentSettings(name="support", policy=PolicySettings(min_samples=100))
        try:
            for which in ("first_s", "second_s"):
                began = time.perf_counter()
                outcome = await checker.check(
                    target,
                    START,
                    reference=Window(START, START + timedelta(days=1)),
                    current=Window(START + timedelta(days=1), START + timedelta(days=2)),
                )
                found[which] = time.perf_counter() - began
                found["rows"] = outcome.current_rows
                found["after_mib"] = rss("VmRSS")
        finally:
            await reader.close()
        return found

    found = asyncio.run(work())
    print(json.dumps({**found, "peak_mib": rss()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["tuning", "sealed"], default="tuning")
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--reference", type=int, default=250)
    parser.add_argument("--current", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cost-rows", type=int, default=10_000)
    parser.add_argument("--alpha", type=float, help="instead of the default feature_score")
    parser.add_argument("--permutations", type=int, help="instead of the default")
    parser.add_argument("--no-cost", action="store_true")
    parser.add_argument("--cost-database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cost_database:
        cost(args)
        return
    quality(args)
    if args.no_cost:
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/gateway.db"
        write_log(args, url)
        # In a process of its own, so that its peak memory is the check's alone.
        child = [sys.executable, __file__, "--cost-database", url]
        out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
    found = json.loads(out.splitlines()[-1])
    print(
        f"cost of a check over {found['rows']:,.0f} + {found['rows']:,.0f} requests (SQLite log), "
        f"MiniLM loaded once: first {found['first_s']:.1f} s, then {found['second_s']:.1f} s; "
        f"peak memory {found['peak_mib']:.0f} MiB (loading torch and MiniLM alone peaked at "
        f"{found['loaded_peak_mib']:.0f} MiB and left {found['loaded_mib']:.0f} MiB resident; "
        f"{found['after_mib']:.0f} MiB resident after the checks)"
    )


if __name__ == "__main__":
    main()
