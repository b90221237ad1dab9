"""The retrain policy and the canary judgement, on plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from llmops.monitoring import canary, policy
from llmops.monitoring.canary import CanaryRules, CanaryVerdict, LiveFigures
from llmops.monitoring.policy import CheckFigures, PolicyState, RetrainPolicy, Verdict

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = RetrainPolicy(min_samples=50, cooldown=timedelta(hours=1), budget=2)
DRIFT = CheckFigures(reference_rows=200, current_rows=200, data_drifted=True)
CALM = CheckFigures(reference_rows=200, current_rows=200, data_drifted=False)


def run(checks: list[tuple[CheckFigures, datetime]]) -> list[Verdict]:
    state = PolicyState()
    verdicts = []
    for figures, now in checks:
        decision = policy.decide(figures, state, POLICY, now)
        state = decision.state
        verdicts.append(decision.verdict)
    return verdicts


def test_too_few_samples_decide_nothing_even_when_the_figures_drift() -> None:
    small = CheckFigures(reference_rows=200, current_rows=49, data_drifted=True)
    decision = policy.decide(small, PolicyState(), POLICY, T0)
    assert decision.verdict is Verdict.TOO_FEW_SAMPLES and not decision.drifted


def test_data_drift_retrains_and_calm_does_not() -> None:
    assert policy.decide(DRIFT, PolicyState(), POLICY, T0).retrain
    assert policy.decide(CALM, PolicyState(), POLICY, T0).verdict is Verdict.NO_DRIFT


def test_one_retrain_per_episode() -> None:
    minutes = [T0 + timedelta(hours=2 * i) for i in range(4)]
    verdicts = run([(DRIFT, minutes[0]), (DRIFT, minutes[1]), (DRIFT, minutes[2])])
    assert verdicts == [Verdict.RETRAIN, Verdict.ALREADY_RETRAINED, Verdict.ALREADY_RETRAINED]


def test_a_new_episode_after_calm_retrains_again_once_the_cooldown_is_over() -> None:
    verdicts = run(
        [
            (DRIFT, T0),
            (CALM, T0 + timedelta(minutes=10)),
            (DRIFT, T0 + timedelta(minutes=20)),  # new episode, inside the cooldown
            (DRIFT, T0 + timedelta(minutes=70)),  # same episode, cooldown over
        ]
    )
    assert verdicts == [Verdict.RETRAIN, Verdict.NO_DRIFT, Verdict.COOLDOWN, Verdict.RETRAIN]


def test_the_budget_caps_retrains_per_period() -> None:
    checks = []
    for i in range(3):
        start = T0 + timedelta(hours=2 * i)
        checks += [(DRIFT, start), (CALM, start + timedelta(minutes=1))]
    verdicts = run(checks)
    assert verdicts[::2] == [Verdict.RETRAIN, Verdict.RETRAIN, Verdict.BUDGET_SPENT]
    # A day after the first retrain the budget has room again.
    state = PolicyState(retrains=(T0, T0 + timedelta(hours=2)))
    later = policy.decide(DRIFT, state, POLICY, T0 + timedelta(hours=25))
    assert later.retrain and len(later.state.retrains) == 2


def test_calm_without_samples_keeps_the_episode_open() -> None:
    verdicts = run(
        [
            (DRIFT, T0),
            (CheckFigures(200, 3, data_drifted=False), T0 + timedelta(hours=2)),
            (DRIFT, T0 + timedelta(hours=4)),
        ]
    )
    assert verdicts == [Verdict.RETRAIN, Verdict.TOO_FEW_SAMPLES, Verdict.ALREADY_RETRAINED]


CHAMPION = LiveFigures(requests=500, error_rate=0.01, latency_ms=200.0, quality=0.9)
RULES = CanaryRules(soak=timedelta(minutes=10), min_requests=20)


def test_a_canary_with_more_errors_is_rolled_back_at_once() -> None:
    bad = LiveFigures(requests=5, error_rate=0.2, latency_ms=200.0, quality=0.9)
    decision = canary.judge(CHAMPION, bad, timedelta(minutes=1), RULES)
    assert decision.verdict is CanaryVerdict.ROLLBACK
    assert "error rate 20.0% against 1.0%" in decision.reasons[0]


def test_a_slower_or_worse_answering_canary_is_rolled_back() -> None:
    slow = LiveFigures(requests=30, error_rate=0.0, latency_ms=400.0, quality=0.9)
    dull = LiveFigures(requests=30, error_rate=0.0, latency_ms=210.0, quality=0.5)
    assert canary.judge(CHAMPION, slow, timedelta(0), RULES).verdict is CanaryVerdict.ROLLBACK
    assert canary.judge(CHAMPION, dull, timedelta(0), RULES).verdict is CanaryVerdict.ROLLBACK


def test_a_few_milliseconds_slower_is_noise_not_a_regression() -> None:
    fast = LiveFigures(requests=500, error_rate=0.0, latency_ms=1.0, quality=None)
    loaded = LiveFigures(requests=30, error_rate=0.0, latency_ms=1.6, quality=None)
    assert canary.worse(fast, loaded, RULES) == []
    slower = LiveFigures(requests=30, error_rate=0.0, latency_ms=120.0, quality=None)
    assert canary.worse(fast, slower, RULES) == ["median latency 120 ms against 1 ms"]


def test_a_good_canary_is_watched_through_the_soak_then_promoted() -> None:
    good = LiveFigures(requests=30, error_rate=0.02, latency_ms=250.0, quality=0.85)
    assert canary.judge(CHAMPION, good, timedelta(minutes=5), RULES).verdict is CanaryVerdict.WATCH
    assert canary.judge(CHAMPION, good, timedelta(minutes=10), RULES).verdict is (
        CanaryVerdict.PROMOTE
    )


def test_a_canary_without_enough_requests_is_not_promoted() -> None:
    quiet = LiveFigures(requests=3, error_rate=0.0, latency_ms=200.0, quality=None)
    decision = canary.judge(CHAMPION, quiet, timedelta(hours=1), RULES)
    assert decision.verdict is CanaryVerdict.WATCH and "3 of 20" in decision.reasons[0]
