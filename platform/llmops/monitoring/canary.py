"""Whether a canary is promoted, rolled back or watched longer: a pure decision.

The challenger's live figures (from the request log, grouped by model version,
and a quality probe) are compared with the champion's over the same period.
Worse on any count rolls it back at once; after the soak with enough requests and
nothing worse, it is promoted.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LiveFigures:
    requests: int
    error_rate: float
    """Share of answers with status 5xx."""
    latency_ms: float
    """Median latency."""
    quality: float | None = None
    """Share of probe prompts answered as expected (``None``: not probed)."""


class Answered(Protocol):
    """A request log row, as far as the canary reads it."""

    @property
    def status(self) -> int: ...
    @property
    def latency_ms(self) -> float: ...


def live_figures(rows: Sequence[Answered], retried: int, quality: float | None) -> LiveFigures:
    """A version's figures: the requests it answered, and the ``retried`` tries it
    failed that the gateway retried on another version (each one request and one error)."""
    requests = len(rows) + retried
    if not requests:
        return LiveFigures(0, 0.0, 0.0, quality)
    errors = sum(1 for r in rows if r.status >= 500) + retried
    return LiveFigures(
        requests=requests,
        error_rate=errors / requests,
        latency_ms=statistics.median(r.latency_ms for r in rows) if rows else 0.0,
        quality=quality,
    )


@dataclass(frozen=True, slots=True)
class CanaryRules:
    soak: timedelta = timedelta(minutes=30)
    min_requests: int = 20
    """Challenger requests needed before promotion (a rollback needs none)."""
    error_rate_margin: float = 0.02
    """How much higher the challenger's error rate may be."""
    latency_ratio: float = 1.5
    """How many times slower the challenger's median latency may be."""
    latency_floor_ms: float = 50.0
    """A slower median counts only when it is also this much slower: at a few
    milliseconds, the ratio measures the machine's load, not the version."""
    quality_margin: float = 0.1
    """How much lower the challenger's probe score may be."""


class CanaryVerdict(StrEnum):
    WATCH = "watch"
    ROLLBACK = "rollback"
    PROMOTE = "promote"


@dataclass(frozen=True, slots=True)
class CanaryDecision:
    verdict: CanaryVerdict
    reasons: tuple[str, ...]

    @property
    def rollback_reason(self) -> str:
        """Why a rolled-back challenger loses its alias, as recorded on the version."""
        return "canary worse than the champion: " + "; ".join(self.reasons)


def worse(champion: LiveFigures, challenger: LiveFigures, rules: CanaryRules) -> list[str]:
    """What the challenger does worse than the champion, in words."""
    reasons = []
    if (
        challenger.requests
        and challenger.error_rate > champion.error_rate + rules.error_rate_margin
    ):
        reasons.append(f"error rate {challenger.error_rate:.1%} against {champion.error_rate:.1%}")
    if (
        challenger.requests
        and champion.latency_ms > 0
        and challenger.latency_ms > champion.latency_ms * rules.latency_ratio
        and challenger.latency_ms - champion.latency_ms > rules.latency_floor_ms
    ):
        reasons.append(
            f"median latency {challenger.latency_ms:.0f} ms against {champion.latency_ms:.0f} ms"
        )
    if (
        challenger.quality is not None
        and champion.quality is not None
        and challenger.quality < champion.quality - rules.quality_margin
    ):
        reasons.append(f"probe quality {challenger.quality:.2f} against {champion.quality:.2f}")
    return reasons


def judge(
    champion: LiveFigures, challenger: LiveFigures, elapsed: timedelta, rules: CanaryRules
) -> CanaryDecision:
    reasons = worse(champion, challenger, rules)
    if reasons:
        return CanaryDecision(CanaryVerdict.ROLLBACK, tuple(reasons))
    if elapsed < rules.soak:
        return CanaryDecision(CanaryVerdict.WATCH, (f"soaking ({elapsed} of {rules.soak})",))
    if challenger.requests < rules.min_requests:
        return CanaryDecision(
            CanaryVerdict.WATCH,
            (f"{challenger.requests} of {rules.min_requests} requests needed",),
        )
    return CanaryDecision(CanaryVerdict.PROMOTE, ("no worse than the champion after the soak",))
