"""The drift check on synthetic windows: same traffic is calm, a new domain drifts.

Evidently and MiniLM run for real. Evidently's embedding drift draws a t-SNE picture
of the sampled prompts, which costs tens of seconds on a busy machine: only the
drifting case embeds, and few prompts.
"""

from __future__ import annotations

import pytest

from llmops.monitoring import drift
from llmops.monitoring.drift import DriftCheckOptions
from llmops.monitoring.embeddings import MiniLMEmbedder
from tests.support.traffic import records

OPTIONS = DriftCheckOptions(embedding_sample=20)


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def test_the_same_traffic_in_both_windows_does_not_drift() -> None:
    result = drift.check(
        records(120, new_domain=False, seed=1), records(120, new_domain=False, seed=2), OPTIONS
    )
    assert result.drift_share < 0.5, result.as_dict()
    assert result.embedding is None  # no embedder given: figures and descriptors only
    assert {f.feature for f in result.features} >= {"prompt_tokens", "latency_ms", "prompt_words"}
    assert "<html" in result.html.lower()


def test_a_new_domain_drifts_in_figures_descriptors_and_embeddings(
    embedder: MiniLMEmbedder,
) -> None:
    result = drift.check(
        records(120, new_domain=False, seed=1),
        records(120, new_domain=True, seed=3),
        OPTIONS,
        embedder,
    )
    assert result.drift_share >= 0.5, result.as_dict()
    assert {"prompt_tokens", "prompt_length", "prompt_words"} <= set(result.drifted_features)
    assert result.embedding is not None and result.embedding.drifted
    assert result.embedding.score > OPTIONS.embedding_threshold
    by_name = {f.feature: f for f in result.features}
    assert by_name["prompt_length"].score < by_name["prompt_length"].threshold
    assert result.as_dict()["reference_rows"] == 120
