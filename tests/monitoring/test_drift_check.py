"""The drift check on synthetic windows, one per scenario: what users send drifts as
data, how the system serves drifts as operations, and the same traffic does not drift.

MiniLM runs for real for the topic test.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from llmops.monitoring import drift
from llmops.monitoring.drift import DriftCheckOptions, DriftResult
from llmops.monitoring.embeddings import MiniLMEmbedder
from llmops.monitoring.signals import KINDS, Kind
from llmops.requestlog.table import RequestRecord
from tests.support.traffic import records

OPTIONS = DriftCheckOptions()
REFERENCE = records(300, seed=1)


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def check(current: list[RequestRecord], embedder: MiniLMEmbedder | None = None) -> DriftResult:
    return drift.check(REFERENCE, current, OPTIONS, embedder)


def test_the_same_traffic_does_not_drift(embedder: MiniLMEmbedder) -> None:
    result = check(records(200, seed=2), embedder)
    assert not result.data_drifted and not result.operational_drifted, result.as_dict()
    assert {s.name for s in result.signals if s.tested} == set(KINDS)  # every signal
    assert result.summary()[0].startswith("No data drift")


def test_a_new_domain_drifts_in_length_and_topic(embedder: MiniLMEmbedder) -> None:
    result = check(records(200, seed=3, new_domain=True), embedder)
    assert result.data_drifted, result.as_dict()
    assert {"prompt_length", "topic"} <= set(result.drifted(Kind.DATA))
    topic = next(s for s in result.signals if s.name == "topic")
    assert topic.examples and all(
        "clause" in e or "section" in e or "paragraph" in e for e in topic.examples
    )
    assert "topic" in "\n".join(result.summary())


@pytest.mark.parametrize("share", [0.25, 1.0])
def test_another_topic_at_the_same_length_drifts_by_topic_alone(
    embedder: MiniLMEmbedder, share: float
) -> None:
    result = check(records(200, seed=4, other="topic", share=share), embedder)
    assert result.data_drifted, result.as_dict()
    assert "topic" in result.drifted(Kind.DATA)
    assert "prompt_length" not in result.drifted(Kind.DATA)


def test_a_change_of_language_drifts_in_the_language_mix() -> None:
    result = check(records(200, seed=5, other="french"))
    assert result.data_drifted, result.as_dict()
    language = next(s for s in result.signals if s.name == "language")
    assert language.drifted and "fr 0% -> 100%" in language.summary


def test_a_change_of_length_alone_drifts_in_length() -> None:
    result = check(records(200, seed=6, other="long"))
    assert "prompt_length" in result.drifted(Kind.DATA), result.as_dict()
    assert "language" not in result.drifted(Kind.DATA)


def test_a_slower_system_is_operational_drift_not_data_drift(embedder: MiniLMEmbedder) -> None:
    result = check(records(200, seed=7, slower=2.0), embedder)
    assert not result.data_drifted, result.as_dict()
    assert result.operational_drifted
    assert {"latency", "ttft"} <= set(result.drifted(Kind.OPERATIONAL))
    assert any(line.startswith("Operational drift") for line in result.summary())


def test_a_signal_with_too_few_rows_is_not_tested() -> None:
    few_texts = [
        r if i % 20 == 0 else replace(r, prompt_text=None)
        for i, r in enumerate(records(200, seed=8))
    ]
    result = check(few_texts)
    language = next(s for s in result.signals if s.name == "language")
    assert not language.tested and language.current_rows == 10
    assert "Not tested" in result.summary()[-1]
    prompt_length = next(s for s in result.signals if s.name == "prompt_length")
    assert prompt_length.tested and prompt_length.current_rows == 200  # every row


def test_a_tiny_but_significant_change_in_a_large_window_is_not_drift() -> None:
    """The effect floor: 4% slower on 3,000 requests is significant, not actionable."""
    big_ref, big_cur = records(3000, seed=9), records(3000, seed=10, slower=1.04)
    result = drift.check(big_ref, big_cur, OPTIONS)
    latency = next(s for s in result.signals if s.name == "latency")
    assert latency.p_value is not None and latency.p_value < 1e-6
    assert not latency.drifted and not result.operational_drifted
