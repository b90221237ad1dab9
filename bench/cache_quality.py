"""How often the cache answers wrongly, and how often it answers at all.

For every labeled pair in ``bench/data/cache_pairs.jsonl`` (built by
``bench/cache_pairs.py``): a fresh cache stores an answer to ``a`` (asked by
``tenant_a``), then ``b`` is asked (by ``tenant_b``); a hit on a pair labeled
``hit: false`` is a false hit. Our cache runs its real lookup path (the request
plan, the in-process store and its HNSW index, the threshold and the verifier);
the baseline is a plain cosine threshold over the same embeddings (all-MiniLM-L6-v2),
with no tenants and no verifier, as a GPTCache-style cache is configured.

precision = 1 - false-hit rate, where false-hit rate = wrong hits / all hits served;
recall = hits on pairs that should hit / pairs that should hit.

The threshold was tuned on the ``tune`` split only (the sweep below shows it);
the ``test`` split was not used to choose anything.

    .venv/bin/python bench/cache_quality.py [--threshold T] [--sweep]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gateway.cache.embedding import MINILM_DIMENSIONS, BatchingEmbedder, Vector, load_minilm
from gateway.cache.memory import MemoryCacheStore
from gateway.cache.service import ResponseCache, Result
from gateway.metrics import GatewayMetrics
from gateway.openai_schema import Endpoint, parse
from gateway.settings import CacheSettings

PAIRS = Path(__file__).parent / "data" / "cache_pairs.jsonl"
BASELINE_THRESHOLDS = (0.8, 0.9, 0.95)
ANSWER = b'{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"cached"},"finish_reason":"stop"}]}'


class TableEmbedder:
    """Embeddings computed once for every text (the real model), served from a table."""

    dimensions = MINILM_DIMENSIONS

    def __init__(self, table: dict[str, Vector]) -> None:
        self._table = table

    async def embed(self, text: str) -> Vector:
        return self._table[text]

    async def close(self) -> None:
        return None


def load_pairs() -> list[dict[str, Any]]:
    return [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]


def request_for(text: str) -> Any:
    body = {"model": "m", "messages": [{"role": "user", "content": text}], "temperature": 0}
    return parse(Endpoint.CHAT, json.dumps(body).encode())


async def ours(
    pairs: Sequence[dict[str, Any]], embedder: TableEmbedder, settings: CacheSettings
) -> list[bool]:
    hits = []
    for pair in pairs:
        store = MemoryCacheStore(
            dimensions=MINILM_DIMENSIONS,
            ttl_seconds=3600,
            max_bytes=64 * 1024 * 1024,
            max_entries_per_namespace=1000,
        )
        cache = ResponseCache(
            settings=settings, store=store, embedder=embedder, metrics=GatewayMetrics()
        )
        first = await cache.lookup(
            request_for(pair["a"]), team=pair["tenant_a"], version="1", headers={}
        )
        cache.store(first, response=ANSWER, stream=False, version="1", reported="1")
        await cache.drain()  # the write happens in the background
        second = await cache.lookup(
            request_for(pair["b"]), team=pair["tenant_b"], version="1", headers={}
        )
        hits.append(second.result is Result.HIT)
        await cache.close()
    return hits


def score(
    pairs: Sequence[dict[str, Any]], hits: Sequence[bool]
) -> tuple[float, float, int, int, int]:
    served = sum(hits)
    wrong = sum(h and not p["hit"] for p, h in zip(pairs, hits, strict=True))
    should = sum(p["hit"] for p in pairs)
    right = sum(h and p["hit"] for p, h in zip(pairs, hits, strict=True))
    precision = 1 - wrong / served if served else 1.0
    return precision, right / should if should else 0.0, served, wrong, len(pairs) - should


def line(name: str, pairs: Sequence[dict[str, Any]], hits: Sequence[bool]) -> str:
    precision, recall, served, wrong, negatives = score(pairs, hits)
    return (
        f"  {name:<26} precision {precision:6.1%}  recall {recall:6.1%}  "
        f"false hits {wrong:3d} of {served:3d} served ({wrong / negatives:5.1%} of near-misses)"
    )


def embed_all(texts: list[str]) -> dict[str, Vector]:
    """Every text's embedding (kept in the temp directory between runs, by content)."""
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]
    saved = Path(tempfile.gettempdir()) / f"llmops-cache-quality-{digest}.npy"
    if saved.exists():
        return dict(zip(texts, np.load(saved), strict=True))
    table = _embed(texts)
    np.save(saved, np.stack([table[t] for t in texts]))
    return table


def _embed(texts: list[str]) -> dict[str, Vector]:
    encode = load_minilm(threads=2)

    async def run() -> list[Vector]:
        embedder = BatchingEmbedder(encode, dimensions=MINILM_DIMENSIONS, max_batch=64)
        try:
            return await embedder.embed_many(texts)
        finally:
            await embedder.close()

    return dict(zip(texts, asyncio.run(run()), strict=True))


def baseline(pairs: Sequence[dict[str, Any]], table: dict[str, Vector], t: float) -> list[bool]:
    return [float(np.dot(table[p["a"]], table[p["b"]])) >= t for p in pairs]


def report(
    title: str, pairs: list[dict[str, Any]], table: dict[str, Vector], mine: list[bool]
) -> None:
    print(f"{title} ({len(pairs)} pairs, {sum(p['hit'] for p in pairs)} should hit)")
    print(line("ours", pairs, mine))
    for t in BASELINE_THRESHOLDS:
        print(line(f"plain cosine >= {t}", pairs, baseline(pairs, table, t)))


def by_kind(pairs: list[dict[str, Any]], hits: list[bool], table: dict[str, Vector]) -> None:
    print("by kind (all splits): pairs; ours hits; plain cosine >= 0.8 / 0.9 / 0.95 hits")
    kinds = Counter(p["kind"] for p in pairs)
    for kind in sorted(kinds):
        chosen = [i for i, p in enumerate(pairs) if p["kind"] == kind]
        ours_hits = sum(hits[i] for i in chosen)
        base = [
            sum(float(np.dot(table[pairs[i]["a"]], table[pairs[i]["b"]])) >= t for i in chosen)
            for t in BASELINE_THRESHOLDS
        ]
        print(
            f"  {kind:<11} {len(chosen):4d}; ours {ours_hits:4d}; plain {base[0]:4d} / {base[1]:4d} / {base[2]:4d}"
        )


def sweep(pairs: list[dict[str, Any]], embedder: TableEmbedder, run: Callable[..., Any]) -> None:
    tune = [p for p in pairs if p["split"] == "tune"]
    print("threshold sweep, tune split only (ours):")
    for t in (0.78, 0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 0.92):
        hits = asyncio.run(run(tune, embedder, CacheSettings(enabled=True, similarity_threshold=t)))
        print(line(f"threshold {t:.2f}", tune, hits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threshold", type=float, default=CacheSettings().similarity_threshold)
    parser.add_argument(
        "--sweep", action="store_true", help="also sweep thresholds on the tune split"
    )
    args = parser.parse_args()
    pairs = load_pairs()
    texts = sorted({p["a"] for p in pairs} | {p["b"] for p in pairs})
    started = time.perf_counter()
    table = embed_all(texts)
    print(
        f"{len(pairs)} pairs, {len(texts)} texts embedded in {time.perf_counter() - started:.1f}s"
    )
    embedder = TableEmbedder(table)
    if args.sweep:
        sweep(pairs, embedder, ours)
    settings = CacheSettings(enabled=True, similarity_threshold=args.threshold)
    print(f"our cache: threshold {args.threshold}, verifier on")
    mine = asyncio.run(ours(pairs, embedder, settings))
    for split in ("tune", "test"):
        chosen = [i for i, p in enumerate(pairs) if p["split"] == split]
        report(f"{split} split", [pairs[i] for i in chosen], table, [mine[i] for i in chosen])
    report("all pairs", pairs, table, mine)
    same_tenant = [i for i, p in enumerate(pairs) if p["kind"] != "tenant"]
    report(
        "all pairs but the cross-tenant ones",
        [pairs[i] for i in same_tenant],
        table,
        [mine[i] for i in same_tenant],
    )
    by_kind(pairs, mine, table)
    # Examples from the tune split only: the test split's failures stay unread.
    tune = [(p, h) for p, h in zip(pairs, mine, strict=True) if p["split"] == "tune"]
    for p, h in tune:
        if h != p["hit"]:
            what = "false hit" if h else "missed"
            print(f"  tune {what} ({p['kind']}): {p['a']!r} -> {p['b']!r}")


if __name__ == "__main__":
    main()
