"""Trains the cache judge's model (``gateway/cache/judge_model.json``) and says how it
does on labeled sets left out of its training.

Training data: the labeled pairs whose errors have been looked at already (``tune``,
``sealed``, ``sealed2``, ``sealed3``, ``sealed4`` and ``legacy`` in ``bench/data``;
``legacy``'s pairs that differ only by tenant are left out, the judge never sees them),
and for each question its nearest question of another pair (``unrelated``). Never
``sealed5``: it judges the version this model belongs to.

Only the pairs the judge is asked about are learned from: those the rules refuse with
no final reason (see ``gateway/cache/judge.py``). The threshold is the lowest score at
which, in 5-fold cross-validation over the training pairs, at most ``--target`` of the
pairs the model serves are wrong.

First it prints, for each set left out in turn, what rules and model together serve of
it when trained on the others (recall, and wrong hits among all served); then it trains
on all and writes the model.

    .venv/bin/python bench/cache_judge_train.py [--target 0.01] [--check-only]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench._stats import wilson
from bench.cache_error_bound import groups
from bench.cache_quality import SETS
from gateway.cache import judge, verifier
from gateway.cache.embedding import load_minilm
from gateway.settings import CacheSettings

DATA = Path(__file__).parent / "data"
TRAINING = {
    name: SETS[name]
    for name in ("tune", "sealed", "sealed2", "sealed3", "sealed4", "sealed5", "legacy")
}
DEPTH, RATE, ROUNDS = 4, 0.05, 300


UNRELATED_FROM = 0.5
"""MiniLM similarity from which two questions of different labeled pairs make an
``unrelated`` example: in a cache of many entries, the nearest entry is often another
question on another matter."""


@dataclass
class Pair:
    set: str
    kind: str
    texts: tuple[str, str]
    hit: bool
    similarity: float
    rules: bool
    """Served by the rules alone."""
    x: list[float] | None
    """The judge's inputs, when it is asked."""
    vetoed: bool = False
    """Learned from, never served (``judge.Opening.traded``)."""


def read_sets() -> list[Pair]:
    rows = []
    for name, file in TRAINING.items():
        for line in (DATA / file).read_text().splitlines():
            row = json.loads(line)
            if row["kind"] != "tenant":
                rows.append((name, row))
    texts = list(dict.fromkeys(t for _, row in rows for t in (row["a"], row["b"])))
    print(f"{len(rows)} pairs, {len(texts)} texts: embedding them", flush=True)
    encode = load_minilm()
    minilm = {}
    for start in range(0, len(texts), 64):
        batch = texts[start : start + 64]
        for text, vector in zip(batch, encode(batch), strict=True):
            minilm[text] = vector / np.linalg.norm(vector)
    examples = [
        (name, row["kind"], row["a"], row["b"], bool(row["hit"])) for name, row in rows
    ] + unrelated(rows, minilm)
    print(f"{len(examples) - len(rows)} unrelated pairs added", flush=True)
    encoder = judge.SentenceEncoder()
    pairs = []
    for n, (name, kind, cached, query, hit) in enumerate(examples):
        similarity = float(np.dot(minilm[query], minilm[cached]))
        compared = verifier.compare(query, cached)
        rules = compared.difference is None
        found = None if rules else judge.opening(query, cached, compared)
        x = None
        if found is not None:
            x = judge.features(query, cached, found, similarity, encoder)
        vetoed = found is not None and found.traded
        pairs.append(Pair(name, kind, (cached, query), hit, similarity, rules, x, vetoed))
        if (n + 1) % 1000 == 0:
            print(f"  read {n + 1}/{len(examples)} pairs", flush=True)
    return pairs


def unrelated(
    rows: list[tuple[str, dict[str, Any]]], minilm: dict[str, npt.NDArray[np.float32]]
) -> list[tuple[str, str, str, str, bool]]:
    """For each question of a set, its nearest question of another labeled pair of the
    same set and language (no pair of them labeled), when at least ``UNRELATED_FROM``
    alike: a pair that must not hit."""
    out = []
    for name in TRAINING:
        chosen = [row for n, row in rows if n == name]
        labeled = {frozenset((row["a"], row["b"])) for row in chosen}
        meaning = groups(chosen)
        for language in sorted({row.get("lang", "en") for row in chosen}):
            texts = sorted(
                {
                    t
                    for row in chosen
                    if row.get("lang", "en") == language
                    for t in (row["a"], row["b"])
                }
            )
            vectors = np.stack([minilm[t] for t in texts])
            alike = vectors @ vectors.T
            np.fill_diagonal(alike, -1.0)
            for i, text in enumerate(texts):
                for j in np.argsort(-alike[i]):
                    if alike[i, j] < UNRELATED_FROM:
                        break
                    other = texts[j]
                    if frozenset((text, other)) not in labeled and meaning[text] != meaning[other]:
                        out.append((name, "unrelated", other, text, False))
                        break
    return out


def _model() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_depth=DEPTH, learning_rate=RATE, max_iter=ROUNDS, early_stopping=False
    )


def _asked(pairs: list[Pair]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    asked = [p for p in pairs if p.x is not None]
    return np.array([p.x for p in asked], float), np.array([p.hit for p in asked], bool)


def threshold(pairs: list[Pair], target: float) -> float:
    """The lowest score at which rules and model together serve at most ``target`` wrong
    among the labeled pairs (the model's scores from 5-fold cross-validation; the
    unrelated pairs are learned from, and reported apart)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x, y = _asked(pairs)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = cross_val_predict(_model(), x, y, cv=folds, method="predict_proba")[:, 1]
    asked = [p for p in pairs if p.x is not None]
    labeled = np.array([p.kind != "unrelated" and not p.vetoed for p in asked], bool)
    rules_right = sum(p.rules and p.hit for p in pairs)
    rules_wrong = sum(p.rules and not p.hit and p.kind != "unrelated" for p in pairs)
    for t in np.linspace(0.5, 0.9999, 2000):
        served = (scores >= t) & labeled
        wrong = rules_wrong + (served & ~y).sum()
        if wrong <= target * (rules_right + rules_wrong + served.sum()):
            return float(t)
    return 1.0


def export(model: Any, at: float, limits: tuple[int, int]) -> dict[str, Any]:
    trees = []
    for (predictor,) in model._predictors:
        nodes: list[list[Any]] = []
        for node in predictor.nodes:
            if node["is_leaf"]:
                nodes.append([0, 0.0, 0, 0, float(node["value"])])
            else:
                nodes.append(
                    [
                        int(node["feature_idx"]),
                        float(node["num_threshold"]),
                        int(node["left"]),
                        int(node["right"]),
                        None,
                    ]
                )
        trees.append(nodes)
    baseline = float(np.ravel(model._baseline_prediction)[0])
    return {
        "features": list(judge.FEATURES),
        "baseline": baseline,
        "threshold": round(at, 4),
        "max_tokens": limits[0],
        "max_words": limits[1],
        "trees": trees,
    }


TOKENS, WORDS_A, WORDS_B = (judge.FEATURES.index(f) for f in ("tokens", "words_a", "words_b"))


def limits(pairs: list[Pair]) -> tuple[int, int]:
    """The most tokens, and leftover words, of a pair learned from."""
    asked = [p.x for p in pairs if p.x is not None]
    return int(max(x[TOKENS] for x in asked)), int(max(x[WORDS_A] + x[WORDS_B] for x in asked))


def served(pairs: list[Pair], trees: judge.Trees, candidates: float) -> list[bool]:
    """What the cache serves: candidates from the similarity threshold on, then the rules,
    then the judge."""
    return [
        p.similarity >= candidates
        and (p.rules or (p.x is not None and not p.vetoed and _judged(p.x, trees)))
        for p in pairs
    ]


def _judged(x: list[float], trees: judge.Trees) -> bool:
    within = trees.covers(x[TOKENS], x[WORDS_A] + x[WORDS_B])
    return within and trees.probability(x) >= trees.threshold


def report(label: str, pairs: list[Pair], serve: list[bool], show: bool = False) -> None:
    others = [s for p, s in zip(pairs, serve, strict=True) if p.kind == "unrelated"]
    serve = [s for p, s in zip(pairs, serve, strict=True) if p.kind != "unrelated"]
    pairs = [p for p in pairs if p.kind != "unrelated"]
    should = sum(p.hit for p in pairs)
    right = sum(s and p.hit for p, s in zip(pairs, serve, strict=True))
    wrong = sum(s and not p.hit for p, s in zip(pairs, serve, strict=True))
    rules = sum(p.rules and p.hit for p in pairs)
    lo, hi = wilson(right, should)
    wlo, whi = wilson(wrong, right + wrong)
    print(
        f"{label:<10} recall {right / should:6.1%} ({right}/{should}) [{lo:.1%}, {hi:.1%}]"
        f"  (rules alone {rules / should:.1%})"
        f"  wrong {wrong / max(right + wrong, 1):5.1%} ({wrong}/{right + wrong})"
        f" [{wlo:.1%}, {whi:.1%}]; unrelated served {sum(others)}/{len(others)}"
    )
    for p, s in zip(pairs, serve, strict=True):
        if show and s and not p.hit:
            print(f"    wrong ({p.kind}): {p.texts[0]!r} / {p.texts[1]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=float, default=0.01)
    parser.add_argument("--check-only", action="store_true", help="do not write the model")
    parser.add_argument("--show-wrong", action="store_true", help="print the wrong hits")
    parser.add_argument(
        "--similarity",
        type=float,
        default=CacheSettings().similarity_threshold,
        help="the cache's similarity threshold (candidates below it are never served)",
    )
    args = parser.parse_args()
    pairs = read_sets()
    print(f"\neach set left out in turn (trained on the others, threshold at {args.target:.1%}):")
    for left_out in TRAINING:
        if left_out == "legacy":
            continue  # English only, and older kinds: a training set, not a test
        train = [p for p in pairs if p.set != left_out]
        test = [p for p in pairs if p.set == left_out]
        x, y = _asked(train)
        trained = _model().fit(x, y)
        trees = judge.Trees(export(trained, threshold(train, args.target), limits(train)))
        report(left_out, test, served(test, trees, args.similarity), args.show_wrong)
    x, y = _asked(pairs)
    model = _model().fit(x, y)
    spec = export(model, threshold(pairs, args.target), limits(pairs))
    trees = judge.Trees(spec)
    gap = max(
        abs(trees.probability(row) - p)
        for row, p in zip(x, model.predict_proba(x)[:, 1], strict=True)
    )
    print(f"\nall sets: {len(x)} pairs asked, threshold {trees.threshold}; export off by {gap:.1e}")
    if gap > 1e-6:
        raise SystemExit("the exported trees do not reproduce the model")
    if not args.check_only:
        judge.MODEL_PATH.write_text(json.dumps(spec, separators=(",", ":")) + "\n")
        print(f"wrote {judge.MODEL_PATH}")


if __name__ == "__main__":
    main()
