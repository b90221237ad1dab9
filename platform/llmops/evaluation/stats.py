"""The statistics a gate reads: means with bootstrap intervals, win rates, a paired sign test.

A pairwise comparison gives each example one outcome for the challenger: 1 (it won),
0 (it lost) or 0.5 (a tie: the same answer, the same score, or a judge that changed its
mind when the answers swapped places). The win rate is the mean outcome, with a
percentile bootstrap interval over examples. The p-value is the one-sided exact sign
test over the examples that were not ties: the chance of at least this many wins if
both models were equally good. Under equal models it is at most 0.05 in at most 5% of
runs, so ``p_value<=0.05`` bounds the false promotions a gate lets through.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

BOOTSTRAP_SAMPLES = 2000
LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean and its 95% interval."""

    mean: float
    low: float
    high: float
    n: int


@dataclass(frozen=True, slots=True)
class PairedResult:
    wins: int
    losses: int
    ties: int
    win_rate: Estimate
    p_value: float

    @property
    def n(self) -> int:
        return self.wins + self.losses + self.ties


def bootstrap_mean(values: Sequence[float], *, seed: int = 0) -> Estimate:
    """The mean of ``values`` with a percentile bootstrap interval (seeded: reproducible)."""
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = math.fsum(values) / n
    if n == 1 or min(values) == max(values):
        return Estimate(mean, mean, mean, n)
    rng = random.Random(seed)  # noqa: S311 - resampling, not secrets
    means = sorted(math.fsum(rng.choices(values, k=n)) / n for _ in range(BOOTSTRAP_SAMPLES))
    tail = (1 - LEVEL) / 2
    low = means[int(tail * BOOTSTRAP_SAMPLES)]
    high = means[min(BOOTSTRAP_SAMPLES - 1, int((1 - tail) * BOOTSTRAP_SAMPLES))]
    return Estimate(mean, low, high, n)


def sign_test(wins: int, losses: int) -> float:
    """One-sided exact sign test: P(at least ``wins`` of ``wins + losses`` fair coin flips)."""
    trials = wins + losses
    if trials == 0:
        return 1.0
    tail = sum(math.comb(trials, k) for k in range(wins, trials + 1))
    return min(1.0, float(tail) / float(2**trials))


def outcome(challenger: float, champion: float) -> float:
    """1 when the challenger's score is higher, 0 when lower, 0.5 when equal."""
    if challenger > champion:
        return 1.0
    if challenger < champion:
        return 0.0
    return 0.5


def paired(outcomes: Sequence[float], *, seed: int = 0) -> PairedResult:
    """Win rate, interval and sign test over per-example outcomes (1, 0.5 or 0)."""
    wins = sum(1 for o in outcomes if o == 1.0)
    losses = sum(1 for o in outcomes if o == 0.0)
    ties = len(outcomes) - wins - losses
    return PairedResult(
        wins, losses, ties, bootstrap_mean(outcomes, seed=seed), sign_test(wins, losses)
    )
