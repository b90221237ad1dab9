"""The statistics a gate reads: intervals that cover, and a sign test with its exact values."""

from __future__ import annotations

import math
import random

import pytest

from llmops.evaluation import stats


def test_sign_test_is_the_exact_binomial_tail() -> None:
    assert stats.sign_test(5, 0) == pytest.approx(1 / 32)
    assert stats.sign_test(0, 0) == 1.0
    assert stats.sign_test(0, 5) == 1.0
    # P(X >= 8 | n=10, 1/2) = (45 + 10 + 1) / 1024
    assert stats.sign_test(8, 2) == pytest.approx(56 / 1024)


def test_ties_count_half_in_the_win_rate_and_nothing_in_the_test() -> None:
    result = stats.paired([1.0, 1.0, 0.5, 0.5, 0.0, 1.0])
    assert (result.wins, result.losses, result.ties) == (3, 1, 2)
    assert result.win_rate.mean == pytest.approx(4 / 6)
    assert result.p_value == pytest.approx(stats.sign_test(3, 1))
    assert result.win_rate.low <= result.win_rate.mean <= result.win_rate.high


def test_all_ties_give_no_evidence() -> None:
    result = stats.paired([0.5] * 40)
    assert result.win_rate.mean == 0.5
    assert (result.win_rate.low, result.win_rate.high) == (0.5, 0.5)
    assert result.p_value == 1.0


def test_the_bootstrap_interval_covers_the_true_mean_about_95_times_in_100() -> None:
    rng = random.Random(7)
    covered = 0
    for trial in range(200):
        sample = [float(rng.random() < 0.3) for _ in range(60)]
        estimate = stats.bootstrap_mean(sample, seed=trial)
        covered += estimate.low <= 0.3 <= estimate.high
    assert 175 <= covered <= 200, covered


def test_an_empty_sample_has_no_mean() -> None:
    estimate = stats.bootstrap_mean([])
    assert estimate.n == 0 and math.isnan(estimate.mean)


def test_under_equal_models_the_sign_test_rejects_at_most_five_percent() -> None:
    rng = random.Random(11)
    rejected = 0
    runs = 2000
    for _ in range(runs):
        outcomes = [rng.choice((0.0, 0.5, 1.0)) for _ in range(30)]
        rejected += stats.paired(outcomes).p_value <= 0.05
    assert rejected / runs <= 0.05
