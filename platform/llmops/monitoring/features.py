"""The features a drift check compares, one row per request, from request-log records."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from llmops.requestlog.table import RequestRecord

NUMERIC = (
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "ttft_ms",
    "error",
    "cache_hit",
)
"""Per-request figures. ``error`` (status 5xx) and ``cache_hit`` are 0/1, so their drift
is the drift of the error rate and of the cache hit rate."""

TEXT = ("prompt_text", "completion_text")
DESCRIPTORS = ("prompt_length", "prompt_words", "completion_length", "completion_words")
"""Text descriptors Evidently computes from the texts (lengths and word counts)."""


def frame(records: Sequence[RequestRecord]) -> pd.DataFrame:
    """Figures and texts of ``records`` (texts are empty strings where not sampled)."""
    return pd.DataFrame(
        {
            "prompt_tokens": [r.prompt_tokens for r in records],
            "completion_tokens": [r.completion_tokens for r in records],
            "latency_ms": [r.latency_ms for r in records],
            "ttft_ms": [r.ttft_ms if r.ttft_ms is not None else float("nan") for r in records],
            "error": [1 if r.status >= 500 else 0 for r in records],
            "cache_hit": [1 if r.cache == "hit" else 0 for r in records],
            "prompt_text": [r.prompt_text or "" for r in records],
            "completion_text": [r.completion_text or "" for r in records],
        }
    )


def sampled_prompts(records: Sequence[RequestRecord]) -> list[str]:
    return [r.prompt_text for r in records if r.prompt_text]
