"""A canary held by registry aliases, judged where nothing edits a routes file.

In Kubernetes a ModelDeployment serves ``@champion`` and gives ``@challenger`` its
canary share; both follow the aliases. Judging the canary is then moving an alias:
on the figures the gateway logged for each version since the challenger was made
challenger (its ``challenger.promoted_at`` tag), the challenger either becomes
champion or loses its alias, and the ModelDeployment's next alias poll changes the
routes. ``llmops drift canary`` runs this, in a DriftMonitor's CronJob before the
drift check.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from llmops.monitoring import canary
from llmops.monitoring.canary import CanaryRules, CanaryVerdict, LiveFigures
from llmops.monitoring.reader import RequestLogReader, Window
from llmops.registry import promotion
from llmops.registry.store import ModelRegistry

log = logging.getLogger(__name__)

ACTOR = "llmops drift canary"
STARTED_TAG = f"{promotion.CHALLENGER}.promoted_at"


@dataclass(frozen=True, slots=True)
class Judgement:
    model: str
    """The registered model."""
    challenger: str | None
    champion: str | None
    verdict: str
    """``promote``, ``rollback``, ``watch``, or ``none`` (no canary to judge)."""
    reasons: tuple[str, ...] = ()
    figures: dict[str, LiveFigures] = field(default_factory=dict)
    """By version."""

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "challenger": self.challenger,
            "champion": self.champion,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "figures": {
                v: {
                    "requests": f.requests,
                    "error_rate": f.error_rate,
                    "latency_ms": f.latency_ms,
                }
                for v, f in self.figures.items()
            },
        }


def started_at(tags: Mapping[str, str], created_ms: int, tag: str = STARTED_TAG) -> datetime:
    """When a version took its alias (``tag``, its ``<alias>.promoted_at``), else when it
    was created."""
    stamp = tags.get(tag)
    if stamp:
        try:
            at = datetime.fromisoformat(stamp)
        except ValueError:
            log.warning("%s %r is not a time: counting from the version's creation", tag, stamp)
        else:
            # Our stamps carry UTC; one written by hand without a zone is taken as UTC.
            return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return datetime.fromtimestamp(created_ms / 1000, tz=UTC)


def _withdraw(registry: ModelRegistry, registered: str, version: str, reason: str) -> None:
    actor = promotion.Actor(ACTOR, reason)
    promotion.withdraw(
        registry, registered, alias=promotion.CHALLENGER, version=version, actor=actor
    )


async def judge(
    registry: ModelRegistry,
    reader: RequestLogReader,
    *,
    registered: str,
    gateway_model: str,
    rules: CanaryRules,
    now: datetime,
) -> Judgement:
    """Judge ``@challenger`` of ``registered`` against ``@champion`` once, and act on it."""
    challenger = registry.by_alias(registered, promotion.CHALLENGER)
    champion = registry.by_alias(registered, promotion.CHAMPION)
    if challenger is None or champion is None:
        return Judgement(
            registered,
            challenger.version if challenger else None,
            champion.version if champion else None,
            "none",
            ("no challenger" if challenger is None else "no champion to compare with",),
        )
    if challenger.version == champion.version:
        # Promoted already (by hand, or a run that stopped before withdrawing).
        _withdraw(registry, registered, challenger.version, "the challenger is the champion")
        return Judgement(registered, None, champion.version, "none", ("already champion",))
    started = started_at(challenger.tags, challenger.created_ms)
    traffic = await reader.by_version(
        gateway_model, Window(started, now), (champion.version, challenger.version)
    )
    figures = {v: canary.live_figures(t.rows, t.failed, None) for v, t in traffic.items()}
    decision = canary.judge(
        figures[champion.version], figures[challenger.version], now - started, rules
    )
    reasons = tuple(decision.reasons)
    if decision.verdict is CanaryVerdict.ROLLBACK:
        log.warning("canary %s of %s rolled back: %s", challenger.version, registered, reasons)
        _withdraw(registry, registered, challenger.version, decision.rollback_reason)
    elif decision.verdict is CanaryVerdict.PROMOTE:
        actor = promotion.Actor(ACTOR, "canary no worse than the champion after the soak")
        promotion.promote(
            registry,
            registered,
            version=challenger.version,
            alias=promotion.CHAMPION,
            gates=(),
            actor=actor,
        )
        _withdraw(registry, registered, challenger.version, "promoted to champion")
    return Judgement(
        registered,
        challenger.version,
        champion.version,
        decision.verdict.value,
        reasons,
        figures,
    )
