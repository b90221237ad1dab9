"""Gate expressions judged on plain data."""

from __future__ import annotations

import pytest

from llmops.registry import gates
from llmops.registry.errors import GateSyntaxError, MissingMetric


def test_a_gate_against_the_champion_compares_the_same_metric() -> None:
    parsed = [gates.parse("eval_loss<=champion"), gates.parse("match >= 0.5")]
    results = gates.judge(parsed, {"eval_loss": 1.2, "match": 0.75}, {"eval_loss": 1.5})
    assert [(r.passed, r.value, r.threshold) for r in results] == [
        (True, 1.2, 1.5),
        (True, 0.75, 0.5),
    ]
    worse = gates.judge(parsed, {"eval_loss": 1.6, "match": 0.25}, {"eval_loss": 1.5})
    assert [r.passed for r in worse] == [False, False]


def test_without_a_champion_a_champion_gate_passes_against_itself() -> None:
    (result,) = gates.judge([gates.parse("eval_loss<champion")], {"eval_loss": 2.0}, None)
    assert result.threshold == 2.0
    assert result.passed is False  # strictly better than itself is impossible
    (result,) = gates.judge([gates.parse("eval_loss<=champion")], {"eval_loss": 2.0}, None)
    assert result.passed


@pytest.mark.parametrize("text", ["eval_loss", "eval_loss=<1", "loss<=best", "x<=nan", "<=1"])
def test_malformed_gates_are_refused(text: str) -> None:
    with pytest.raises(GateSyntaxError):
        gates.parse(text)


def test_a_gate_on_a_missing_metric_says_which() -> None:
    with pytest.raises(MissingMetric, match="'match'"):
        gates.judge([gates.parse("match>=0.5")], {"eval_loss": 1.0}, None)


def test_only_numeric_tags_are_metrics() -> None:
    tags = {"eval_loss": "1.25", "base": "bundled:smollm2", "bad": "inf"}
    assert gates.metrics_of(tags) == {"eval_loss": 1.25}
