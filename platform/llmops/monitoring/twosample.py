"""The two-sample tests of the drift check: pure functions over plain arrays.

Each returns a p-value (the chance of a difference at least this large between two
windows drawn from the same traffic) and an effect size, so that a tiny but
significant change in a window of 10,000 requests is not called drift.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Outcome:
    p_value: float
    effect: float
    """The test's own effect size (see each test)."""


def lengths(reference: Sequence[float], current: Sequence[float]) -> Outcome:
    """Kolmogorov-Smirnov on two samples of a number; the effect is the KS statistic,
    the largest gap between the two cumulative distributions (0 to 1)."""
    found = stats.ks_2samp(np.asarray(reference), np.asarray(current))
    return Outcome(float(found.pvalue), float(found.statistic))


MIN_EXPECTED = 5
"""Categories expected fewer times than this in a window are pooled (chi-square's rule)."""


def categories(reference: Sequence[str], current: Sequence[str]) -> Outcome:
    """Chi-square test of homogeneity of two samples of labels (rare labels pooled);
    Fisher's exact test when there are two labels and one is rare. The effect is the total
    variation distance between the two mixes (0 to 1: the share of traffic that would have
    to change label)."""
    ref, cur = Counter(reference), Counter(current)
    n_ref, n_cur = len(reference), len(current)
    labels = sorted(set(ref) | set(cur))
    effect = 0.5 * sum(abs(ref[k] / n_ref - cur[k] / n_cur) for k in labels)
    if len(labels) < 2:
        return Outcome(1.0, effect)
    smaller = min(n_ref, n_cur)

    def expected(count: int) -> float:
        return count * smaller / (n_ref + n_cur)

    if len(labels) == 2:
        rows = [[ref[k] for k in labels], [cur[k] for k in labels]]
        if min(expected(ref[k] + cur[k]) for k in labels) < MIN_EXPECTED:
            return Outcome(float(stats.fisher_exact(rows).pvalue), effect)
        found = stats.chi2_contingency(np.asarray(rows), correction=False)
        return Outcome(float(found.pvalue), effect)
    common = [k for k in labels if expected(ref[k] + cur[k]) >= MIN_EXPECTED]
    rare = [k for k in labels if k not in common]
    rows = [[ref[k] for k in common], [cur[k] for k in common]]
    if rare:
        pooled = (sum(ref[k] for k in rare), sum(cur[k] for k in rare))
        if expected(sum(pooled)) >= MIN_EXPECTED or not common:
            rows[0].append(pooled[0])
            rows[1].append(pooled[1])
        else:  # still too rare on its own: into the smallest common label
            least = min(range(len(common)), key=lambda i: rows[0][i] + rows[1][i])
            rows[0][least] += pooled[0]
            rows[1][least] += pooled[1]
    if len(rows[0]) < 2:
        return Outcome(1.0, effect)
    found = stats.chi2_contingency(np.asarray(rows), correction=False)
    return Outcome(float(found.pvalue), effect)


def embeddings(
    reference: npt.NDArray[np.float32],
    current: npt.NDArray[np.float32],
    *,
    permutations: int = 2000,
    seed: int = 0,
) -> tuple[Outcome, Floats]:
    """Maximum mean discrepancy between two samples of vectors, with a Gaussian kernel
    whose width is the median distance between them, and a permutation test: the
    p-value is the share of random relabellings of the pooled vectors whose discrepancy
    is at least the observed one. The effect is MMD² itself. Also each current vector's
    witness score: how much more it resembles the current window than the reference
    (the highest are the prompts most typical of what changed)."""
    n, m = len(reference), len(current)
    pooled = np.concatenate([reference, current]).astype(np.float64)
    squared = np.maximum(
        (pooled**2).sum(1)[:, None] + (pooled**2).sum(1)[None, :] - 2 * pooled @ pooled.T, 0.0
    )
    width = float(np.median(squared[np.triu_indices(n + m, k=1)])) or 1.0
    kernel = np.exp(-squared / width)
    weights = np.concatenate([np.full(n, 1.0 / n), np.full(m, -1.0 / m)])
    observed = float(weights @ kernel @ weights)
    rng = np.random.default_rng(seed)
    shuffled = np.stack([rng.permutation(weights) for _ in range(permutations)], axis=1)
    null = np.einsum("ip,ip->p", kernel @ shuffled, shuffled)
    p_value = (1 + int((null >= observed - 1e-12).sum())) / (1 + permutations)
    witness = kernel[n:, n:].mean(1) - kernel[n:, :n].mean(1)
    return Outcome(p_value, observed), witness


def holm(p_values: dict[str, float], alpha: float) -> set[str]:
    """The names whose p-value stays significant at family-wise level ``alpha`` after
    Holm's correction (each test's chance of a false alarm shrinks with their number)."""
    found = {name: p for name, p in p_values.items() if math.isfinite(p)}  # NaN: no verdict
    ordered = sorted(found.items(), key=lambda item: item[1])
    significant: set[str] = set()
    for rank, (name, p) in enumerate(ordered):
        if not p < alpha / (len(ordered) - rank):
            break
        significant.add(name)
    return significant
