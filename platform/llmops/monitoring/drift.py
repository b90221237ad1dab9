"""The drift check: a reference window against a current window of one deployment.

Each signal of :mod:`llmops.monitoring.signals` gets a two-sample test over all the
rows of both windows that have it (:mod:`llmops.monitoring.twosample`): lengths by
Kolmogorov-Smirnov, the language mix, refusals, errors and cache hits by chi-square,
and the topic of the prompts by the maximum mean discrepancy of their embeddings
(MiniLM) with a permutation test, on a sample of each window. A signal drifts when its
p-value stays under ``alpha`` after Holm's correction over the signals of its kind,
*and* its effect is large enough to act on: a window of 10,000 requests makes tiny
changes significant.

Data drift (what users send) and operational drift (how the system serves) are
decided apart: only data drift starts a retrain.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

import numpy as np

from llmops.monitoring import features, twosample
from llmops.monitoring.embeddings import Embedder
from llmops.monitoring.signals import DATA, KINDS, Kind
from llmops.requestlog.table import RequestRecord

MAX_PERMUTATIONS = 20_000
"""The most relabellings for the topic's p-value (their matrix is prompts by this)."""


@dataclass(frozen=True, slots=True)
class DriftCheckOptions:
    alpha: float = 0.01
    """The chance, per check and per kind, of calling drift between two windows of the
    same traffic (Holm's correction spreads it over the signals)."""
    drift_share: float = 0.2
    """Data drift needs at least this share of the data signals tested to drift (and
    at least one): 0.2 is any one of the five."""
    min_length_change: float = 0.1
    """A length drifts only when the two distributions are this far apart (the KS
    statistic: the largest gap between their cumulative shares)."""
    min_share_change: float = 0.03
    """The language mix or the refusal rate drifts only when this share of the traffic
    changed label."""
    min_latency_change: float = 0.25
    """Latency or time to first token drifts only when its median or p95 moved by this
    fraction."""
    min_rate_change: float = 0.02
    """The error rate or the cache hit rate drifts only when it moved by this much."""
    embedding_sample: int = 500
    """Prompts per window embedded for the topic test."""
    permutations: int = 2000
    """Random relabellings for the topic's p-value; more when ``alpha`` is smaller, so that
    the smallest p-value they can give is a quarter of Holm's strictest threshold."""
    min_rows: int = 20
    """A signal with fewer rows than this in a window is not tested."""
    only: tuple[str, ...] = ()
    """Only these signals are tested (default: all)."""


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    kind: Kind
    method: str
    reference_rows: int
    current_rows: int
    p_value: float | None
    """``None`` when the signal was not tested (too few rows)."""
    effect: float | None
    min_effect: float
    drifted: bool
    summary: str
    """What changed, in words."""
    examples: tuple[str, ...] = ()
    """For the topic: current prompts most unlike the reference window."""

    @property
    def tested(self) -> bool:
        return self.p_value is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.name,
            "kind": str(self.kind),
            "tested": self.tested,
            "score": self.p_value,
            "effect": self.effect,
            "min_effect": self.min_effect,
            "drifted": self.drifted,
            "method": self.method,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "summary": self.summary,
            "examples": list(self.examples),
        }


@dataclass(frozen=True, slots=True)
class DriftResult:
    reference_rows: int
    current_rows: int
    signals: tuple[Signal, ...]
    data_drifted: bool
    operational_drifted: bool

    def of(self, kind: Kind) -> list[Signal]:
        return [s for s in self.signals if s.kind is kind]

    @property
    def drift_share(self) -> float:
        """The share of the data signals tested that drifted."""
        tested = [s for s in self.of(Kind.DATA) if s.tested]
        return sum(s.drifted for s in tested) / len(tested) if tested else 0.0

    def drifted(self, kind: Kind) -> list[str]:
        return [s.name for s in self.of(kind) if s.drifted]

    @property
    def drifted_features(self) -> list[str]:
        return [s.name for s in self.signals if s.drifted]

    def summary(self) -> list[str]:
        """The verdict in words a person can act on."""
        lines = []
        data = [s for s in self.of(Kind.DATA) if s.drifted]
        if data:
            lines.append("Data drift (what users send changed; retraining may help):")
            lines.extend(f"  {s.name}: {s.summary}" for s in data)
        else:
            lines.append("No data drift: users send the same kind of requests.")
        ops = [s for s in self.of(Kind.OPERATIONAL) if s.drifted]
        if ops:
            lines.append("Operational drift (the serving system changed; an alert, not a retrain):")
            lines.extend(f"  {s.name}: {s.summary}" for s in ops)
        untested = [s.name for s in self.signals if not s.tested]
        if untested:
            lines.append(f"Not tested (fewer than the rows needed): {', '.join(untested)}")
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "data_drift": self.data_drifted,
            "operational_drift": self.operational_drifted,
            "drift_share": self.drift_share,
            "summary": self.summary(),
            "features": [s.as_dict() for s in self.signals],
        }


def check(
    reference: Sequence[RequestRecord],
    current: Sequence[RequestRecord],
    options: DriftCheckOptions,
    embedder: Embedder | None = None,
) -> DriftResult:
    """Compare the windows (blocking: about a second for hundreds of requests, seconds
    for tens of thousands; run it in a thread). Without an embedder the topic is not
    tested."""
    names = [n for n in KINDS if not options.only or n in options.only]
    if embedder is None and features.TOPIC in names:
        names.remove(features.TOPIC)
    measured: dict[str, _Measured] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy on constant samples
        for name in names:
            if name in features.NUMBERS:
                measured[name] = _numbers(name, reference, current, options)
            elif name in features.LABELS:
                measured[name] = _labels(name, reference, current, options)
            else:
                assert embedder is not None
                measured[name] = _topic(embedder, reference, current, options)
    signals = _decide(measured, options)
    data = [s for s in signals if s.kind is Kind.DATA and s.tested]
    drifted = [s for s in data if s.drifted]
    data_drifted = bool(drifted) and len(drifted) / len(data) >= options.drift_share - 1e-9
    operational = any(s.drifted for s in signals if s.kind is Kind.OPERATIONAL)
    return DriftResult(len(reference), len(current), signals, data_drifted, operational)


@dataclass(frozen=True, slots=True)
class _Measured:
    method: str
    reference_rows: int
    current_rows: int
    outcome: twosample.Outcome | None
    min_effect: float
    summary: str
    examples: tuple[str, ...] = ()


def _enough(options: DriftCheckOptions, *sizes: int) -> bool:
    return min(sizes) >= options.min_rows


def _numbers(
    name: str,
    reference: Sequence[RequestRecord],
    current: Sequence[RequestRecord],
    options: DriftCheckOptions,
) -> _Measured:
    ref, cur = features.numbers(name, reference), features.numbers(name, current)
    if not _enough(options, len(ref), len(cur)):
        return _Measured("Kolmogorov-Smirnov", len(ref), len(cur), None, 0.0, "")
    found = twosample.lengths(ref, cur)
    if name in ("latency", "ttft"):
        p95 = (float(np.percentile(ref, 95)), float(np.percentile(cur, 95)))
        moved = max(_ratio(median(cur), median(ref)), _ratio(p95[1], p95[0]))
        summary = (
            f"median {median(ref):.0f} -> {median(cur):.0f} ms, p95 {p95[0]:.0f} -> {p95[1]:.0f} ms"
        )
        outcome = twosample.Outcome(found.p_value, moved)
        return _Measured(
            "Kolmogorov-Smirnov; effect: relative change of the median or p95",
            len(ref),
            len(cur),
            outcome,
            options.min_latency_change,
            summary,
        )
    summary = (
        f"median {median(ref):g} -> {median(cur):g} tokens "
        f"(mean {np.mean(ref):.1f} -> {np.mean(cur):.1f})"
    )
    return _Measured(
        "Kolmogorov-Smirnov; effect: KS statistic",
        len(ref),
        len(cur),
        found,
        options.min_length_change,
        summary,
    )


def _ratio(new: float, old: float) -> float:
    """The relative change, over a floor of 1 ms (a 0 ms reference is a cache's)."""
    return abs(new - old) / max(old, 1.0)


_WORDS = {
    "refusals": ("refused", "of answers refused"),
    "errors": ("error", "of requests failed (5xx)"),
    "cache_hits": ("hit", "of requests answered from the cache"),
}


def _labels(
    name: str,
    reference: Sequence[RequestRecord],
    current: Sequence[RequestRecord],
    options: DriftCheckOptions,
) -> _Measured:
    ref, cur = features.labels(name, reference), features.labels(name, current)
    method = "chi-square; effect: total variation distance"
    if not _enough(options, len(ref), len(cur)):
        return _Measured(method, len(ref), len(cur), None, 0.0, "")
    found = twosample.categories(ref, cur)
    floor = (
        options.min_share_change if name in ("language", "refusals") else options.min_rate_change
    )
    return _Measured(method, len(ref), len(cur), found, floor, _mix(name, ref, cur))


def _mix(name: str, reference: list[str], current: list[str]) -> str:
    ref, cur = Counter(reference), Counter(current)
    share_ref = {k: v / len(reference) for k, v in ref.items()}
    share_cur = {k: v / len(current) for k, v in cur.items()}
    if name in _WORDS:
        label, words = _WORDS[name]
        return f"{share_ref.get(label, 0.0):.1%} -> {share_cur.get(label, 0.0):.1%} {words}"

    def change(k: str) -> float:
        return abs(share_cur.get(k, 0.0) - share_ref.get(k, 0.0))

    moved = [
        k for k in sorted(set(ref) | set(cur), key=change, reverse=True)[:3] if change(k) >= 0.01
    ]
    return ", ".join(
        f"{k} {share_ref.get(k, 0.0):.0%} -> {share_cur.get(k, 0.0):.0%}" for k in moved
    )


def _sample(texts: list[str], n: int, seed: int) -> list[str]:
    if len(texts) <= n:
        return texts
    picks = np.random.default_rng(seed).choice(len(texts), n, replace=False)
    return [texts[i] for i in sorted(picks)]


def _topic(
    embedder: Embedder,
    reference: Sequence[RequestRecord],
    current: Sequence[RequestRecord],
    options: DriftCheckOptions,
) -> _Measured:
    ref = _sample(features.prompts(reference), options.embedding_sample, seed=0)
    cur = _sample(features.prompts(current), options.embedding_sample, seed=1)
    method = "maximum mean discrepancy of prompt embeddings, permutation test; effect: MMD²"
    if not _enough(options, len(ref), len(cur)):
        return _Measured(method, len(ref), len(cur), None, 0.0, "")
    # Enough relabellings that the smallest p-value passes Holm's strictest threshold.
    permutations = min(
        max(options.permutations, math.ceil(4 * len(DATA) / options.alpha)), MAX_PERMUTATIONS
    )
    found, witness = twosample.embeddings(
        embedder.embed(ref), embedder.embed(cur), permutations=permutations
    )
    typical = [cur[i] for i in np.argsort(-witness)[:3]]
    summary = (
        f"prompts about other things (MMD² {found.effect:.3g}, p {found.p_value:.3g}, "
        f"{len(ref)} and {len(cur)} prompts embedded)"
    )
    return _Measured(method, len(ref), len(cur), found, 0.0, summary, tuple(typical))


def _decide(measured: dict[str, _Measured], options: DriftCheckOptions) -> tuple[Signal, ...]:
    significant: set[str] = set()
    for kind in Kind:
        p_values = {
            n: m.outcome.p_value
            for n, m in measured.items()
            if m.outcome is not None and KINDS[n] is kind
        }
        significant |= twosample.holm(p_values, options.alpha)
    signals = []
    for name, m in measured.items():
        out = m.outcome
        drifted = name in significant and out is not None and out.effect >= m.min_effect
        signals.append(
            Signal(
                name=name,
                kind=KINDS[name],
                method=m.method,
                reference_rows=m.reference_rows,
                current_rows=m.current_rows,
                p_value=out.p_value if out else None,
                effect=out.effect if out else None,
                min_effect=m.min_effect,
                drifted=drifted,
                summary=m.summary,
                examples=m.examples if drifted else (),
            )
        )
    return tuple(signals)
