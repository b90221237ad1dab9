"""How often the cache answers wrongly, and how often it answers at all.

For every labeled pair of a set: a fresh cache stores an answer to ``a`` (asked by
``tenant_a``, by default one team), then ``b`` is asked (by ``tenant_b``); a hit on a
pair labeled ``hit: false`` is a wrong hit. Our cache runs its real lookup path (the
request plan, the in-process store and its HNSW index, the threshold and the verifier);
the baseline is a plain cosine threshold over the same embeddings (all-MiniLM-L6-v2),
with no tenants and no verifier, as a GPTCache-style cache is configured.

precision = 1 - wrong hits / all hits served; recall = right hits / pairs that should hit;
both with their 95% Wilson interval, overall, per language and per kind.

Sets (``bench/data``):
- ``tune`` (``cache_tune.jsonl``): English, French, Spanish and German pairs the verifier
  and its threshold were tuned on;
- ``legacy`` (``cache_pairs.jsonl``): the earlier English pairs (with tenants), which the
  earlier verifier was tuned on;
- ``sealed`` (``cache_sealed.jsonl``, checksum in ``cache_sealed.sha256``): 1,100 pairs
  written before the verifier and never tuned on; ``sealed2`` (``cache_sealed2.jsonl``):
  1,000 more, written before the verifier's second version. Judge them with ``--sealed``,
  once per change worth reporting. ``sealed3`` (``cache_sealed3.jsonl``): 1,020 pairs
  (300 English, 320 French, 200 Spanish, 200 German) written by other writers before the
  verifier's third version, for that version: ``--sealed 3``, once.

``sealed4`` (``cache_sealed4.jsonl``): 1,040 pairs (300 English, 320 French, 210 Spanish,
210 German) written by five writers apart from the code after the third version was
judged, committed with its checksum before the fourth version, for that version:
``--sealed 4``, once. ``sealed5`` (``cache_sealed5.jsonl``): 1,033 pairs (296 English, 317
French, 210 Spanish, 210 German) by seven more writers, written after the fourth version
was judged and committed with its checksum before the fifth, for that version:
``--sealed 5``, once. ``sealed6`` (``cache_sealed6.jsonl``): 1,002 pairs (291 English, 310
French, 199 Spanish, 202 German) by six writers, written after the fifth version was judged
and committed with its checksum before the sixth, for that version: ``--sealed 6``, once.

The verifier's third version adds a judge (``gateway/cache/judge.py``), a model trained
on ``tune``, ``legacy``, ``sealed`` and ``sealed2`` (from the fourth version on, also
``sealed3``; from the fifth, ``sealed4``; from the sixth, ``sealed5``): figures on those sets are figures on its training data (``bench/cache_judge_train.py`` prints each left out in turn). Each set
is also run with the judge off ("rules alone"), side by side.

    .venv/bin/python bench/cache_quality.py [--threshold T] [--sweep] [--sealed [N] ...]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench._stats import wilson
from gateway.cache.embedding import MINILM_DIMENSIONS, BatchingEmbedder, Vector, load_minilm
from gateway.cache.memory import MemoryCacheStore
from gateway.cache.service import ResponseCache, Result
from gateway.metrics import GatewayMetrics
from gateway.openai_schema import Endpoint, parse
from gateway.settings import CacheSettings

DATA = Path(__file__).parent / "data"
SETS = {
    "tune": "cache_tune.jsonl",
    "legacy": "cache_pairs.jsonl",
    "sealed": "cache_sealed.jsonl",
    "sealed2": "cache_sealed2.jsonl",
    "sealed3": "cache_sealed3.jsonl",
    "sealed4": "cache_sealed4.jsonl",
    "sealed5": "cache_sealed5.jsonl",
    "sealed6": "cache_sealed6.jsonl",
}
BASELINE_THRESHOLDS = (0.8, 0.9, 0.95)
TRAINED_ON = frozenset({"tune", "legacy", "sealed", "sealed2", "sealed3", "sealed4", "sealed5"})
"""The sets the judge's model learned from (bench/cache_judge_train.py)."""
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


def load_pairs(name: str) -> list[dict[str, Any]]:
    path = DATA / SETS[name]
    if name.startswith("sealed"):
        expected = (DATA / f"cache_{name}.sha256").read_text().split()[0]
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != expected:
            raise SystemExit(f"{path} does not match its sealed checksum")
    pairs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for pair in pairs:
        pair.setdefault("lang", "en")
        pair.setdefault("tenant_a", "team-a")
        pair.setdefault("tenant_b", pair["tenant_a"])
    return pairs


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
            max_bytes=64 * 1024 * 1024,
            max_entries_per_namespace=1000,
        )
        cache = ResponseCache(
            settings=settings, store=store, embedder=embedder, metrics=GatewayMetrics()
        )
        await cache.start()  # loads the judge (once per process) when it is on
        first = await cache.lookup(
            request_for(pair["a"]), team=pair["tenant_a"], version="1", headers={}
        )
        cache.store(
            first,
            response=ANSWER,
            stream=False,
            version="1",
            reported="1",
            team=pair["tenant_a"],
            subjects=(f"team:{pair['tenant_a']}",),
        )
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
    should = len(pairs) - negatives
    p_low, p_high = wilson(served - wrong, served)
    r_low, r_high = wilson(round(recall * should), should)
    return (
        f"  {name:<22} precision {precision:6.1%} [{p_low:5.1%}, {p_high:6.1%}]  "
        f"recall {recall:6.1%} [{r_low:5.1%}, {r_high:5.1%}]  "
        f"wrong {wrong:3d} of {served:4d} served ({wrong / max(negatives, 1):5.1%} of near-misses)"
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
        try:  # in chunks: the embedder bounds the texts waiting for it
            vectors: list[Vector] = []
            for start in range(0, len(texts), 512):
                vectors += await embedder.embed_many(texts[start : start + 512])
            return vectors
        finally:
            await embedder.close()

    return dict(zip(texts, asyncio.run(run()), strict=True))


def baseline(pairs: Sequence[dict[str, Any]], table: dict[str, Vector], t: float) -> list[bool]:
    return [float(np.dot(table[p["a"]], table[p["b"]])) >= t for p in pairs]


def report(
    title: str,
    pairs: list[dict[str, Any]],
    table: dict[str, Vector],
    mine: list[bool],
    rules: list[bool],
) -> None:
    print(f"{title} ({len(pairs)} pairs, {sum(p['hit'] for p in pairs)} should hit)")
    print(line("ours", pairs, mine))
    print(line("ours, rules alone", pairs, rules))
    for t in BASELINE_THRESHOLDS:
        print(line(f"plain cosine >= {t}", pairs, baseline(pairs, table, t)))


def breakdown(pairs: list[dict[str, Any]], hits: list[bool], field: str) -> None:
    print(f"  ours by {field}:")
    for value in sorted({p[field] for p in pairs}):
        chosen = [i for i, p in enumerate(pairs) if p[field] == value]
        print(line(f"  {value}", [pairs[i] for i in chosen], [hits[i] for i in chosen]))


def judged(threshold: float, judge: bool = True) -> CacheSettings:
    """The cache's settings with every verified match served: the error bound, which
    serves only what the replica's answers confirm, is judged by cache_error_bound.py."""
    return CacheSettings(
        enabled=True, similarity_threshold=threshold, max_wrong_rate=None, judge=judge
    )


def sweep(pairs: list[dict[str, Any]], embedder: TableEmbedder) -> None:
    print("threshold sweep (ours):")
    for t in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88):
        hits = asyncio.run(ours(pairs, embedder, judged(t)))
        print(line(f"threshold {t:.2f}", pairs, hits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threshold", type=float, default=CacheSettings().similarity_threshold)
    parser.add_argument("--sweep", action="store_true", help="also sweep thresholds (tune set)")
    parser.add_argument(
        "--sealed",
        type=int,
        nargs="?",
        const=1,
        action="append",
        choices=range(1, 7),
        metavar="N",
        help="also judge the N-th sealed set (none: the first two); report each once",
    )
    args = parser.parse_args()
    names = ["tune", "legacy"]
    for n in args.sealed or []:
        names += ["sealed", "sealed2"] if n == 1 else ["sealed2"] if n == 2 else [f"sealed{n}"]
    sets = {name: load_pairs(name) for name in names}
    texts = sorted({p[k] for pairs in sets.values() for p in pairs for k in ("a", "b")})
    started = time.perf_counter()
    table = embed_all(texts)
    print(f"{len(texts)} texts embedded in {time.perf_counter() - started:.1f}s")
    embedder = TableEmbedder(table)
    if args.sweep:
        sweep(sets["tune"], embedder)
    settings = judged(args.threshold)
    print(
        f"our cache: threshold {args.threshold}, verifier on (rules and judge), every verified "
        "match served; 'rules alone': the judge off"
    )
    for name, pairs in sets.items():
        mine = asyncio.run(ours(pairs, embedder, settings))
        rules = asyncio.run(ours(pairs, embedder, judged(args.threshold, judge=False)))
        trained = " (the judge's training data)" if name in TRAINED_ON else ""
        report(f"{name} set{trained}", pairs, table, mine, rules)
        for field in ("lang", "kind"):
            if len({p[field] for p in pairs}) > 1:
                breakdown(pairs, mine, field)
    verifier_cost(texts)
    judge_cost(texts, table)


def judge_cost(texts: list[str], table: dict[str, Vector]) -> None:
    """The judge's cost per candidate the rules refuse, with both texts' sentence
    embeddings computed fresh, and kept from before."""
    from gateway.cache import judge, verifier

    shared = judge.shared()
    if shared is None:
        return
    pairs = [
        (a, b)
        for a, b in zip(texts[::2], texts[1::2], strict=False)
        if verifier.difference(a, b) is not None
    ]
    shared.forget()
    started = time.perf_counter()
    for a, b in pairs:
        shared.same(a, b, float(np.dot(table[a], table[b])))
    cold = (time.perf_counter() - started) / len(pairs)
    started = time.perf_counter()
    for a, b in pairs:
        shared.same(a, b, float(np.dot(table[a], table[b])))
    warm = (time.perf_counter() - started) / len(pairs)
    print(
        f"judge per candidate the rules refuse: {cold * 1e3:.2f} ms with both texts embedded "
        f"fresh, {warm * 1e3:.2f} ms with both embedded before ({len(pairs)} pairs)"
    )


def verifier_cost(texts: list[str]) -> None:
    """The verifier's cost per candidate, cold (language and reading computed) and warm."""
    from gateway.cache import language, reading, verifier

    pairs = list(zip(texts[::2], texts[1::2], strict=False))
    language.detect.cache_clear()
    reading.read.cache_clear()
    started = time.perf_counter()
    for a, b in pairs:
        verifier.difference(a, b)
    cold = (time.perf_counter() - started) / len(pairs)
    started = time.perf_counter()
    for a, b in pairs:
        verifier.difference(a, b)
    warm = (time.perf_counter() - started) / len(pairs)
    print(
        f"verifier per candidate: {cold * 1e6:.0f} us with both texts read fresh, "
        f"{warm * 1e6:.0f} us with both read before ({len(pairs)} pairs)"
    )


if __name__ == "__main__":
    main()
