"""A shadow held by a registry alias, judged where nothing edits a routes file.

In Kubernetes a ModelDeployment's ``shadow`` follows an alias (``@shadow`` for the
feedback loop): the gateway mirrors a share of the requests to that version and logs
its answers as shadow rows. Judging the shadow is then moving aliases: once the soak is
over and enough requests were mirrored, a version no worse than the primary on agreement,
latency and errors becomes ``@challenger`` (the canary's alias) and loses ``@shadow`` (once
no other version holds ``@challenger``: one canary at a time); a worse one only loses
``@shadow``. ``llmops drift shadow`` runs this, in a DriftMonitor's
CronJob.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from llmops.monitoring import shadow as shadows
from llmops.monitoring.reader import RequestLogReader, Window
from llmops.monitoring.registry_canary import started_at
from llmops.registry import promotion
from llmops.registry.store import ModelRegistry

log = logging.getLogger(__name__)

ACTOR = "llmops drift shadow"


@dataclass(frozen=True, slots=True)
class ShadowJudgement:
    model: str
    version: str | None
    verdict: str
    """``challenger`` (passed: now the canary's), ``withdrawn``, ``watch`` or ``none``."""
    reasons: tuple[str, ...] = ()
    figures: shadows.ShadowFigures | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "version": self.version,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "figures": self.figures.to_json() if self.figures else None,
        }


async def judge(
    registry: ModelRegistry,
    reader: RequestLogReader,
    *,
    registered: str,
    gateway_model: str,
    alias: str,
    rules: shadows.ShadowRules,
    soak: timedelta,
    now: datetime,
) -> ShadowJudgement:
    """Judge ``@alias`` of ``registered`` on its mirrored requests once, and act on it."""
    held = registry.by_alias(registered, alias)
    if held is None:
        return ShadowJudgement(registered, None, "none", (f"no @{alias}",))
    started = started_at(held.tags, held.created_ms, f"{alias}.promoted_at")
    window = Window(started, now)
    primary = await reader.window(gateway_model, window)
    mirrored = await reader.window(gateway_model, window, shadow=True)
    figures = next(
        (f for f in shadows.compare(primary, mirrored) if f.version == held.version), None
    )
    verdict, reasons = shadows.judge(figures, rules)
    if verdict == "wait" or now - started < soak:
        if now - started < soak:
            reasons = [*reasons, f"soaking until {started + soak:%Y-%m-%d %H:%M:%S}"]
        return ShadowJudgement(registered, held.version, "watch", tuple(reasons), figures)
    why = "; ".join(reasons)
    if verdict == "pass":
        held_canary = registry.by_alias(registered, promotion.CHALLENGER)
        if held_canary is not None and held_canary.version != held.version:
            # One canary at a time: the shadow waits for the one being judged.
            waiting = f"passed; waits for the canary of version {held_canary.version}"
            return ShadowJudgement(registered, held.version, "watch", (waiting,), figures)
        promotion.promote(
            registry,
            registered,
            version=held.version,
            alias=promotion.CHALLENGER,
            gates=(),
            actor=promotion.Actor(ACTOR, f"shadow no worse than the primary: {why}"),
        )
    else:
        log.warning("shadow %s of %s withdrawn: %s", held.version, registered, why)
    promotion.withdraw(
        registry,
        registered,
        alias=alias,
        version=held.version,
        actor=promotion.Actor(ACTOR, f"shadow {verdict}: {why}"),
    )
    outcome = "challenger" if verdict == "pass" else "withdrawn"
    return ShadowJudgement(registered, held.version, outcome, tuple(reasons), figures)
