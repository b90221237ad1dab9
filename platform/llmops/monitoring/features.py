"""The values of each drift signal (:mod:`llmops.monitoring.signals`), read from
request-log records.

Lengths are token counts, which every row has (the upstream's usage); the language,
refusal and topic signals need the texts, which the request log keeps for a sample of
rows (``text_sample_rate``), so they are compared on the rows that have them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from llmops import languages
from llmops.evaluation.rules import refuses
from llmops.requestlog.table import RequestRecord

NUMBERS = ("prompt_length", "completion_length", "latency", "ttft")
LABELS = ("language", "refusals", "errors", "cache_hits")
TOPIC = "topic"


def _answered(record: RequestRecord) -> bool:
    return record.status < 400


def numbers(name: str, records: Sequence[RequestRecord]) -> list[float]:
    """A numeric signal's values: one per row that has it."""
    if name == "prompt_length":
        return [float(r.prompt_tokens) for r in records if r.prompt_tokens > 0]
    if name == "completion_length":
        return [float(r.completion_tokens) for r in records if _answered(r)]
    if name == "latency":
        return [r.latency_ms for r in records if r.status < 500]
    if name == "ttft":
        return [r.ttft_ms for r in records if r.ttft_ms is not None and r.status < 500]
    raise KeyError(name)


def labels(name: str, records: Sequence[RequestRecord]) -> list[str]:
    """A categorical signal's labels: one per row that has it."""
    if name == "language":
        return [languages.identify(r.prompt_text) for r in records if r.prompt_text]
    if name == "refusals":
        return [
            "refused" if refuses(r.completion_text) else "answered"
            for r in records
            if r.completion_text and _answered(r)
        ]
    if name == "errors":
        return ["error" if r.status >= 500 else "ok" for r in records]
    if name == "cache_hits":
        return ["hit" if r.cache == "hit" else "miss" for r in records]
    raise KeyError(name)


def prompts(records: Sequence[RequestRecord]) -> list[str]:
    return [r.prompt_text for r in records if r.prompt_text]


def frame(records: Sequence[RequestRecord]) -> pd.DataFrame:
    """Every signal but the topic as columns, one row per request (missing values empty),
    for the HTML report."""
    columns: dict[str, list[object]] = {}
    for name in (*NUMBERS, *LABELS):
        columns[name] = []
    for r in records:
        for name in NUMBERS:
            found = numbers(name, [r])
            columns[name].append(found[0] if found else None)
        for name in LABELS:
            found_labels = labels(name, [r])
            columns[name].append(found_labels[0] if found_labels else None)
    return pd.DataFrame(columns)
