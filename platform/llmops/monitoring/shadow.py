"""How a shadow version compares with the primary on the same requests.

Each mirrored request has two request-log rows with one request id: the answer the user
got and the shadow's. Over the pairs of a window: how much the shadow's answers agree
with the primary's (ROUGE-L F1 of the two texts, where both were kept), how much slower
it is (the ratio of median latencies), and both error rates. These are figures the
canary judgement can read before any user is sent to a challenger.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from llmops.evaluation.rules import normalized_words, rouge_words
from llmops.requestlog.table import RequestRecord


@dataclass(frozen=True, slots=True)
class ShadowFigures:
    version: str
    pairs: int
    """Mirrored requests with both rows."""
    agreement: float | None
    """Mean ROUGE-L F1 of the shadow's answer against the primary's (``None``: no texts)."""
    compared_texts: int
    latency_ratio: float | None
    """Median shadow latency over median primary latency, on the same requests."""
    shadow_error_rate: float
    primary_error_rate: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def compare(
    primary: Sequence[RequestRecord], shadow: Sequence[RequestRecord]
) -> list[ShadowFigures]:
    """Figures per shadow version, over the requests both rows exist for."""
    answered = {r.request_id: r for r in primary if r.request_id is not None}
    by_version: dict[str, list[tuple[RequestRecord, RequestRecord]]] = {}
    for row in shadow:
        first = answered.get(row.request_id) if row.request_id is not None else None
        if first is not None and row.model_version is not None:
            by_version.setdefault(row.model_version, []).append((first, row))
    return [_figures(version, pairs) for version, pairs in sorted(by_version.items())]


def _figures(version: str, pairs: list[tuple[RequestRecord, RequestRecord]]) -> ShadowFigures:
    scores = [
        rouge_words(normalized_words(s.completion_text), normalized_words(p.completion_text))
        for p, s in pairs
        if p.completion_text and s.completion_text and p.status < 400 and s.status < 400
    ]
    primary_ms = statistics.median(p.latency_ms for p, _ in pairs)
    shadow_ms = statistics.median(s.latency_ms for _, s in pairs)
    return ShadowFigures(
        version=version,
        pairs=len(pairs),
        agreement=statistics.fmean(scores) if scores else None,
        compared_texts=len(scores),
        latency_ratio=shadow_ms / primary_ms if primary_ms > 0 else None,
        shadow_error_rate=sum(s.status >= 500 for _, s in pairs) / len(pairs),
        primary_error_rate=sum(p.status >= 500 for p, _ in pairs) / len(pairs),
    )


@dataclass(frozen=True, slots=True)
class ShadowRules:
    min_requests: int
    min_agreement: float
    max_latency_ratio: float
    error_rate_margin: float


def judge(figures: ShadowFigures | None, rules: ShadowRules) -> tuple[str, list[str]]:
    """``wait`` (too few mirrored requests yet), ``pass`` or ``fail``, and why."""
    if figures is None or figures.pairs < rules.min_requests:
        seen = figures.pairs if figures is not None else 0
        return "wait", [f"{seen} of {rules.min_requests} mirrored requests"]
    reasons = []
    if figures.agreement is not None and figures.agreement < rules.min_agreement:
        reasons.append(f"agreement {figures.agreement:.3f} < {rules.min_agreement}")
    if figures.latency_ratio is not None and figures.latency_ratio > rules.max_latency_ratio:
        reasons.append(f"latency x{figures.latency_ratio:.2f} > x{rules.max_latency_ratio}")
    allowed = figures.primary_error_rate + rules.error_rate_margin
    if figures.shadow_error_rate > allowed:
        reasons.append(f"error rate {figures.shadow_error_rate:.1%} > {allowed:.1%}")
    return ("fail" if reasons else "pass"), reasons or ["no worse than the champion"]
