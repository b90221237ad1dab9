"""The error bound serves the semantic tier only where the replica's own answers say it
is right often enough: it learns before serving, tightens and turns the tier off when
the replica disagrees, recovers on evidence, and re-asks no more than its share."""

from __future__ import annotations

import random

import pytest

from gateway.cache.bound import ALL_TEAMS, ErrorBound, State, Verdict
from gateway.settings import CacheSettings

SETTINGS = CacheSettings(
    enabled=True,
    similarity_threshold=0.6,
    max_wrong_rate=0.05,
    audit_share=0.1,
    bound_min_samples=50,
    bound_window=2000,
)


def feed(
    bound: ErrorBound,
    n: int,
    wrong_at: float,
    *,
    team: str = "team:a",
    seed: int = 0,
    low: float = 0.6,
) -> tuple[int, int]:
    """``n`` verified candidates at similarities from ``low`` to 1, wrong with chance
    ``wrong_at``; every candidate not served is checked. (served, served wrongly)."""
    rng = random.Random(seed)
    served = wrong_served = 0
    for _ in range(n):
        similarity = rng.uniform(low, 1.0)
        wrong = rng.random() < wrong_at
        verdict = bound.decide("m", team, similarity)
        if verdict is Verdict.SERVE:
            served += 1
            wrong_served += wrong
        else:
            bound.record("m", team, similarity, wrong=wrong, verdict=verdict)
    return served, wrong_served


def test_nothing_is_served_while_learning_then_the_tier_turns_on() -> None:
    bound = ErrorBound(SETTINGS, rng=random.Random(1))
    assert bound.decide("m", "team:a", 0.99) is Verdict.HOLD
    assert bound.estimate("m").state is State.LEARNING
    served, _ = feed(bound, 30, 0.0)
    assert served == 0  # fewer samples than bound_min_samples: all held
    feed(bound, 400, 0.0, seed=1)
    estimate = bound.estimate("m")
    assert estimate.state is State.ON
    assert estimate.threshold is not None and estimate.threshold >= SETTINGS.similarity_threshold
    assert SETTINGS.max_wrong_rate is not None and estimate.upper <= SETTINGS.max_wrong_rate
    served, _ = feed(bound, 200, 0.0, seed=2)
    assert served > 100


def test_the_tier_tightens_where_low_similarities_are_wrong() -> None:
    bound = ErrorBound(SETTINGS, rng=random.Random(1))
    rng = random.Random(3)
    for _ in range(3000):
        similarity = rng.uniform(0.6, 1.0)
        wrong = rng.random() < (0.5 if similarity < 0.8 else 0.0)
        verdict = bound.decide("m", "team:a", similarity)
        if verdict is not Verdict.SERVE:
            bound.record("m", "team:a", similarity, wrong=wrong, verdict=verdict)
    estimate = bound.estimate("m")
    assert estimate.state is State.ON
    assert estimate.threshold is not None and estimate.threshold >= 0.8


def test_disagreement_turns_the_tier_off_and_agreement_brings_it_back() -> None:
    bound = ErrorBound(SETTINGS, rng=random.Random(1))
    feed(bound, 600, 0.0)
    assert bound.estimate("m").state is State.ON
    # The replica starts disagreeing (a new model version, another kind of traffic).
    served, _ = feed(bound, 3000, 0.3, seed=4)
    assert bound.estimate("m").state is State.OFF
    assert bound.decide("m", "team:a", 0.999) is Verdict.HOLD
    assert served < 200  # of 3000: it stopped serving soon after the errors began
    # It agrees again: old evidence fades, and the tier comes back only on evidence.
    for seed in range(5, 40):
        feed(bound, 500, 0.0, seed=seed)
        if bound.estimate("m").state is State.ON:
            break
    assert bound.estimate("m").state is State.ON


def test_a_team_with_enough_evidence_of_its_own_is_judged_on_it() -> None:
    bound = ErrorBound(SETTINGS, rng=random.Random(1))
    feed(bound, 2000, 0.0, team="team:a")
    feed(bound, 600, 0.4, team="team:b", seed=6)
    assert bound.effective("m", "team:b").state is State.OFF
    assert bound.decide("m", "team:b", 0.999) is Verdict.HOLD
    assert bound.effective("m", "team:a").state is State.ON
    # A team with no evidence of its own follows the model's.
    assert bound.effective("m", "team:c") == bound.estimate("m", ALL_TEAMS)


@pytest.mark.parametrize("share", [0.01, 0.05, 0.2])
def test_the_share_re_asked_never_exceeds_its_setting(share: float) -> None:
    settings = SETTINGS.model_copy(update={"audit_share": share})
    for seed in range(5):
        bound = ErrorBound(settings, rng=random.Random(seed))
        feed(bound, 600, 0.0, seed=seed)
        rng = random.Random(seed + 100)
        for _ in range(3000):
            similarity = rng.uniform(0.95, 1.0)
            verdict = bound.decide("m", "team:a", similarity)
            if verdict is Verdict.AUDIT:
                bound.record("m", "team:a", similarity, wrong=False, verdict=verdict)
            for _model, would, asked in bound.reasked():
                assert asked <= share * would
        ((_, would, asked),) = bound.reasked()
        assert would > 500
        assert asked >= 0.5 * share * would  # it does re-ask: the bound needs it


def test_the_served_wrong_rate_stays_under_the_target() -> None:
    """Wrong answers are common at low similarity and rare at high: what is served, once
    the bound has its samples, is wrong less often than the target."""
    bound = ErrorBound(SETTINGS, rng=random.Random(1))
    rng = random.Random(8)
    served = wrong_served = 0
    for step in range(20000):
        similarity = rng.uniform(0.6, 1.0)
        wrong = rng.random() < (0.3 if similarity < 0.75 else 0.08 if similarity < 0.9 else 0.01)
        verdict = bound.decide("m", "team:a", similarity)
        if verdict is Verdict.SERVE:
            served += step > 2000
            wrong_served += wrong and step > 2000
        else:
            bound.record("m", "team:a", similarity, wrong=wrong, verdict=verdict)
    assert served > 1000
    assert SETTINGS.max_wrong_rate is not None
    assert wrong_served / served <= SETTINGS.max_wrong_rate


def test_a_bin_with_traffic_and_no_check_counts_as_wrong() -> None:
    bound = ErrorBound(SETTINGS, rng=random.Random(1))
    rng = random.Random(9)
    for _ in range(200):
        bound.decide("m", "team:a", 0.95)  # seen, never checked (no answer came back)
    for _ in range(2000):
        similarity = rng.choice([rng.uniform(0.6, 0.94), rng.uniform(0.96, 1.0)])
        verdict = bound.decide("m", "team:a", similarity)
        if verdict is not Verdict.SERVE:
            bound.record("m", "team:a", similarity, wrong=False, verdict=verdict)
    estimate = bound.estimate("m")
    assert estimate.state is State.ON
    assert estimate.threshold is not None and estimate.threshold >= 0.96


def test_a_change_seen_in_the_audits_stops_serving_soon() -> None:
    settings = SETTINGS.model_copy(update={"bound_window": 50000})
    bound = ErrorBound(settings, rng=random.Random(1))
    feed(bound, 5000, 0.0, low=0.9)
    assert bound.estimate("m").state is State.ON
    served_after, _ = feed(bound, 3000, 0.5, seed=10, low=0.9)
    assert bound.estimate("m").state is not State.ON
    assert served_after < 400  # of 3000: about 25 audits at a 10% share tell
