"""Cache lookup latency and memory per entry, in-process and in Redis, at 10k and 100k entries.

One namespace is filled with N entries (a 1 KB answer and a question each);
their vectors are clustered like questions on a few hundred topics (a point near
one of 500 centres, unit length), since HNSW behaves differently on uniform
noise than on real embeddings. Then lookups are timed as the semantic tier
makes them, embedding excluded: the nearest candidates, then the read of the
best one (in Redis: the local mirror's search, then one round trip). Half the
queries are near an entry (a hit), half are not (a miss). The exact tier's read
is timed too.

Memory per entry: the process's resident growth (in-process store), and Redis's
``used_memory`` growth plus the mirror's resident growth (Redis store).

    .venv/bin/python bench/cache_latency.py [--sizes 10000 100000] [--lookups 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench._services import Stack, start_redis
from gateway.cache.base import CacheStore, Entry
from gateway.cache.embedding import MINILM_DIMENSIONS
from gateway.cache.memory import MemoryCacheStore
from gateway.cache.redis import RedisCacheStore
from gateway.resp import RespConnection

NAMESPACE = "bench"
ANSWER = b"x" * 1000
TOPICS = 500


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.standard_normal((TOPICS, MINILM_DIMENSIONS)).astype(np.float32)
    points = centres[rng.integers(0, TOPICS, n)] + 0.6 * rng.standard_normal(
        (n, MINILM_DIMENSIONS)
    ).astype(np.float32)
    unit: np.ndarray = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    return unit


def entry(i: int) -> Entry:
    return Entry(
        namespace=NAMESPACE,
        key=f"{i:032x}",
        scope="team:bench",
        text=f"question number {i} about something that people ask a model",
        response=ANSWER,
        stream=False,
        version="1",
        created=time.time(),
        ttl=3600,
    )


async def fill(store: CacheStore, vectors: np.ndarray, concurrency: int) -> None:
    for start in range(0, len(vectors), concurrency):
        await asyncio.gather(
            *(
                store.put(entry(i), vectors[i])
                for i in range(start, min(len(vectors), start + concurrency))
            )
        )


Figures = tuple[float, float, float, float]
"""Wall-clock p50 and p99, then this thread's CPU-time p50 and p99 (ms)."""


async def timed(op: Callable[[], Awaitable[object]], count: int) -> Figures:
    wall, cpu = [], []
    for _ in range(count):
        started, started_cpu = time.perf_counter(), time.thread_time()
        await op()
        cpu.append(time.thread_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    w, c = np.array(wall) * 1000, np.array(cpu) * 1000
    return (
        float(np.percentile(w, 50)),
        float(np.percentile(w, 99)),
        float(np.percentile(c, 50)),
        float(np.percentile(c, 99)),
    )


def queries(vectors: np.ndarray, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for q in range(count):
        if q % 2 == 0:  # near a stored entry: a paraphrase
            v = vectors[rng.integers(0, len(vectors))] + 0.02 * rng.standard_normal(
                MINILM_DIMENSIONS
            )
        else:  # a new question on a known topic
            v = clustered(1, rng)[0]
        out.append((v / np.linalg.norm(v)).astype(np.float32))
    return out


async def measure(
    store: CacheStore, vectors: np.ndarray, lookups: int, rng: np.random.Generator
) -> tuple[Figures, Figures, float]:
    qs = queries(vectors, lookups, rng)
    turn = iter(range(10**9))

    async def semantic() -> None:
        q = qs[next(turn) % len(qs)]
        found = await store.similar(NAMESPACE, q, 4)
        if found:
            await store.get(NAMESPACE, found[0][0])

    keys = [f"{int(i):032x}" for i in rng.integers(0, len(vectors), lookups)]
    position = iter(range(10**9))

    async def exact() -> None:
        await store.get(NAMESPACE, keys[next(position) % len(keys)])

    await timed(semantic, 200)  # warm-up
    sem = await timed(semantic, lookups)
    ex = await timed(exact, lookups)
    # The index's own recall for near-duplicates: does the entry a hit query came from come first?
    found = 0
    for _ in range(200):
        target = int(rng.integers(0, len(vectors)))
        v = vectors[target] + 0.02 * rng.standard_normal(MINILM_DIMENSIONS)
        top = await store.similar(NAMESPACE, (v / np.linalg.norm(v)).astype(np.float32), 4)
        found += bool(top) and top[0][0] == f"{target:032x}"
    return sem, ex, found / 200


async def run_memory(n: int, lookups: int) -> str:
    rng = np.random.default_rng(n)
    vectors = clustered(n, rng)
    before = rss_bytes()
    store = MemoryCacheStore(
        dimensions=MINILM_DIMENSIONS,
        max_bytes=8 * 1024**3,
        max_entries_per_namespace=n,
    )
    await fill(store, vectors, 1)
    grown = rss_bytes() - before
    sem, ex, recall = await measure(store, vectors, lookups, rng)
    accounted = store.bytes / n
    await store.close()
    return row(
        "in-process",
        n,
        sem=sem,
        ex=ex,
        recall=recall,
        memory=f"{grown / n:,.0f} B resident ({accounted:,.0f} B accounted)",
    )


async def run_redis(url: str, n: int, lookups: int) -> str:
    rng = np.random.default_rng(n)
    vectors = clustered(n, rng)
    admin = RespConnection(url, timeout=30)
    await admin.call("FLUSHALL")
    used_before = await used_memory(admin)
    before = rss_bytes()
    store = RedisCacheStore(
        url,
        dimensions=MINILM_DIMENSIONS,
        longest_ttl_seconds=3600,
        max_bytes=8 * 1024**3,
        max_entries=n,
        max_entries_per_namespace=n,
        timeout=30,
    )
    await fill(store, vectors, 64)
    grown = rss_bytes() - before
    used = await used_memory(admin) - used_before
    sem, ex, recall = await measure(store, vectors, lookups, rng)
    await store.close()
    await admin.close()
    return row(
        "Redis",
        n,
        sem=sem,
        ex=ex,
        recall=recall,
        memory=f"{used / n:,.0f} B in Redis + {grown / n:,.0f} B mirror",
    )


async def used_memory(conn: RespConnection) -> int:
    info = (await conn.call("INFO", "memory")).decode()
    line = next(x for x in info.splitlines() if x.startswith("used_memory:"))
    return int(line.split(":")[1])


def row(store: str, n: int, *, sem: Figures, ex: Figures, recall: float, memory: str) -> str:
    return (
        f"{store:<10} {n:>7,} entries  semantic wall p50 {sem[0]:.3f} p99 {sem[1]:.3f} ms, "
        f"cpu p50 {sem[2]:.3f} p99 {sem[3]:.3f} ms; exact wall p50 {ex[0]:.3f} p99 {ex[1]:.3f} ms; "
        f"top-1 recall {recall:.1%}; {memory} per entry"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--lookups", type=int, default=5000)
    args = parser.parse_args()
    print(
        f"lookups per figure: {args.lookups}; one namespace; embedding excluded; target p99 <= 2 ms"
    )
    print("wall: as the caller waits; cpu: this thread's own time (no wait for a core or Redis)")
    for n in args.sizes:
        print(asyncio.run(run_memory(n, args.lookups)), flush=True)
    with tempfile.TemporaryDirectory() as tmp, Stack(Path(tmp)) as stack:
        url = start_redis(stack)
        for n in args.sizes:
            print(asyncio.run(run_redis(url, n, args.lookups)), flush=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
