"""The retrain decision: thresholds, minimum samples, episodes and cooldown."""

from __future__ import annotations

import datetime

import pytest

from operators import driftpolicy

NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)


def result(**raw: object) -> driftpolicy.CheckResult:
    return driftpolicy.read_result(raw, share_threshold=0.5, min_samples=100)


def decide(r: driftpolicy.CheckResult, **history: object) -> driftpolicy.RetrainDecision:
    args: dict[str, object] = {
        "current_episode": None,
        "last_episode_retrained": None,
        "last_retrain": None,
        "cooldown_seconds": 3600,
    }
    args.update(history)
    return driftpolicy.decide(r, now=NOW, **args)  # type: ignore[arg-type]


def test_share_threshold_flag_and_minimum_samples() -> None:
    assert result(drift_share=0.6, samples=200).drifted
    assert not result(drift_share=0.4, samples=200).drifted
    assert result(drift_detected=True, drift_share=0.1, sample_size=200).drifted
    assert not result(drift_share=0.9, samples=20).drifted  # too few to judge


def test_a_new_episode_retrains_and_the_same_episode_does_not_again() -> None:
    first = decide(result(drift_share=0.7, samples=500))
    assert first.retrain and first.reason == "DriftDetected" and first.episode == "20261123120000"
    again = decide(
        result(drift_share=0.8, samples=500),
        current_episode=first.episode,
        last_episode_retrained=first.episode,
    )
    assert not again.retrain and again.reason == "AlreadyRetrained"


def test_cooldown_holds_back_a_new_episode() -> None:
    recent = NOW - datetime.timedelta(minutes=30)
    held = decide(
        result(drift_share=0.7, samples=500), last_episode_retrained="old", last_retrain=recent
    )
    assert not held.retrain and held.reason == "CoolingDown"
    later = decide(
        result(drift_share=0.7, samples=500),
        last_episode_retrained="old",
        last_retrain=NOW - datetime.timedelta(hours=2),
    )
    assert later.retrain


def test_no_drift_ends_nothing_and_starts_nothing() -> None:
    assert decide(result(drift_share=0.1, samples=500)) == driftpolicy.RetrainDecision(
        False, None, "NoDrift"
    )


def test_durations() -> None:
    assert driftpolicy.seconds("24h") == 86400 and driftpolicy.seconds("30m") == 1800
    with pytest.raises(ValueError, match="not a duration"):
        driftpolicy.seconds("1 day")


def feedback(raw: dict[str, object], **history: object) -> driftpolicy.RetrainDecision:
    args: dict[str, object] = {"min_new": 50, "last_retrain": None, "cooldown_seconds": 3600}
    args.update(history)
    new = driftpolicy.feedback_new(raw)
    return driftpolicy.decide_feedback(new, now=NOW, drift_retrain=False, **args)  # type: ignore[arg-type]


def test_feedback_retrains_past_its_minimum_and_its_own_cooldown() -> None:
    assert feedback({"feedback": {"new": 50}}).retrain
    assert feedback({"feedback": {"new": 49}}).reason == "FeedbackBelowMinimum"
    assert feedback({}).reason == "FeedbackNotCounted"  # an older check, or no --feedback-since
    assert feedback({"feedback": {"new": "many"}}).reason == "FeedbackNotCounted"
    recent = NOW - datetime.timedelta(minutes=30)
    assert feedback({"feedback": {"new": 90}}, last_retrain=recent).reason == "FeedbackCoolingDown"
    old = NOW - datetime.timedelta(hours=2)
    assert feedback({"feedback": {"new": 90}}, last_retrain=old).retrain


def test_a_drift_retrain_goes_first() -> None:
    decision = driftpolicy.decide_feedback(
        90, now=NOW, min_new=50, last_retrain=None, cooldown_seconds=0, drift_retrain=True
    )
    assert not decision.retrain and decision.reason == "DriftRetrainFirst"
