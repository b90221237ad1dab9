"""The drift check's two-sample tests on plain arrays."""

from __future__ import annotations

import math

import numpy as np

from llmops.monitoring import twosample


def test_holm_rejects_in_order_and_stops_at_the_first_survivor() -> None:
    # Thresholds for three tests at 0.05: 0.0167, then 0.025, then 0.05.
    assert twosample.holm({"a": 0.001, "b": 0.02, "c": 0.04}, 0.05) == {"a", "b", "c"}
    assert twosample.holm({"a": 0.001, "b": 0.03, "c": 0.04}, 0.05) == {"a"}
    assert twosample.holm({"a": 0.02, "b": 0.001}, 0.05) == {"a", "b"}
    assert twosample.holm({"a": 0.02, "b": 0.03}, 0.01) == set()
    assert twosample.holm({}, 0.05) == set()


def test_holm_gives_no_verdict_on_a_missing_p_value() -> None:
    assert twosample.holm({"x": math.nan, "y": 0.5}, 0.01) == set()
    assert twosample.holm({"x": math.nan, "y": 0.001}, 0.01) == {"y"}


def test_categories_same_mix_is_calm_a_new_label_is_not() -> None:
    same = twosample.categories(["en"] * 90 + ["fr"] * 10, ["en"] * 45 + ["fr"] * 5)
    assert same.p_value > 0.5 and same.effect == 0.0
    one_label = twosample.categories(["en"] * 50, ["en"] * 40)
    assert one_label == twosample.Outcome(1.0, 0.0)
    moved = twosample.categories(["en"] * 100, ["en"] * 70 + ["fr"] * 30)
    assert moved.p_value < 1e-6 and math.isclose(moved.effect, 0.3)


def test_categories_pool_rare_labels_and_use_fishers_test_when_sparse() -> None:
    # Two rare labels (expected under 5 each) pooled; the test stays calm.
    ref = ["en"] * 95 + ["pt"] * 2 + ["it"] * 3
    cur = ["en"] * 96 + ["pt"] * 3 + ["it"] * 1
    assert twosample.categories(ref, cur).p_value > 0.3
    # Refusals: 2 of 100 against 3 of 50 is sparse: Fisher's exact test.
    sparse = twosample.categories(["no"] * 98 + ["yes"] * 2, ["no"] * 47 + ["yes"] * 3)
    assert 0.05 < sparse.p_value < 1.0


def test_embeddings_permutation_p_value_and_witness() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(120, 8)).astype(np.float32)
    same = rng.normal(size=(80, 8)).astype(np.float32)
    calm, _ = twosample.embeddings(ref, same, permutations=500)
    assert calm.p_value > 0.05
    shifted = same.copy()
    shifted[:20, 0] += 4.0  # a quarter of the current window moved away
    found, witness = twosample.embeddings(ref, shifted, permutations=500)
    assert found.p_value == 1 / 501 and found.effect > calm.effect
    assert set(np.argsort(-witness)[:10]) <= set(range(20))  # the moved ones are typical
