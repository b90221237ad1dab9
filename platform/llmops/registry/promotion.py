"""Promotion and rollback: move an alias after the gates agree, and record who, when and why.

Moving an alias is one registry write (MLflow replaces the alias's version in one
transaction), so a model that has a champion keeps one at every moment. Each
promotion is recorded as tags on the promoted version
(``<alias>.promoted_by|promoted_at|reason|gates``) and, for the champion, in the
registered model's champion history, which :func:`rollback` walks back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from llmops.registry import gates as gate_rules
from llmops.registry.errors import NothingToRollBack, RegistryError
from llmops.registry.store import ModelRegistry, VersionInfo

CHAMPION = "champion"
CHALLENGER = "challenger"
SHADOW = "shadow"
ALIASES = (CHAMPION, CHALLENGER, SHADOW)
"""Champion serves; challenger takes the canary share; shadow sees mirrored requests
and answers nobody."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks, and why (recorded on the version)."""

    name: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PromotionResult:
    promoted: bool
    model: str
    version: str
    alias: str
    previous: str | None
    gates: tuple[gate_rules.GateResult, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "promoted": self.promoted,
            "model": self.model,
            "version": self.version,
            "alias": self.alias,
            "previous": self.previous,
            "gates": [g.to_json() for g in self.gates],
        }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def with_champion(history: Sequence[str], version: str) -> list[str]:
    """The champion history after ``version`` becomes champion."""
    if history and history[-1] == version:
        return list(history)
    return [*history, version]


def rollback_target(history: Sequence[str], current: str | None) -> tuple[str, list[str]]:
    """The version to return to and the history after returning; raises if there is none.

    The history's last entry is the current champion; the entry before it is the
    one to return to. A current champion missing from the history (set by hand) is
    replaced by the history's last entry.
    """
    trail = list(history)
    if trail and trail[-1] == current:
        trail.pop()
    while trail and trail[-1] == current:
        trail.pop()
    if not trail:
        raise NothingToRollBack(f"no earlier champion than version {current} to return to")
    return trail[-1], trail


def promote(
    registry: ModelRegistry,
    name: str,
    *,
    version: str,
    alias: str,
    gates: Sequence[str],
    actor: Actor,
) -> PromotionResult:
    """Point ``alias`` at ``version`` if every gate passes; the verdicts either way."""
    if alias not in ALIASES:
        raise RegistryError(f"alias must be one of {', '.join(ALIASES)}, not {alias!r}")
    parsed = [gate_rules.parse(g) for g in gates]
    candidate = registry.version(name, version)
    champion = registry.by_alias(name, CHAMPION)
    champion_metrics = gate_rules.metrics_of(champion.tags) if champion is not None else None
    candidate_metrics = gate_rules.metrics_of(candidate.tags)
    results = []
    for gate in parsed:
        lineage = pairwise_lineage(gate, candidate, champion, candidate_metrics)
        if lineage is None:
            lineage = gate_rules.judge([gate], candidate_metrics, champion_metrics)[0]
        results.append(lineage)
    current = registry.by_alias(name, alias)
    previous = current.version if current is not None else None
    if not all(r.passed for r in results):
        return PromotionResult(False, name, version, alias, previous, tuple(results))
    registry.tag_version(
        name,
        version,
        {
            f"{alias}.promoted_by": actor.name,
            f"{alias}.promoted_at": now_iso(),
            f"{alias}.reason": actor.reason,
            f"{alias}.previous": previous or "",
            f"{alias}.gates": json.dumps([r.to_json() for r in results]),
        },
    )
    registry.set_alias(name, alias, version)
    if alias == CHAMPION:
        history = registry.model(name).champion_history
        if previous is not None and not history:
            history = [previous]
        registry.set_champion_history(name, with_champion(history, version))
    return PromotionResult(True, name, version, alias, previous, tuple(results))


def pairwise_lineage(
    gate: gate_rules.Gate,
    candidate: VersionInfo,
    champion: VersionInfo | None,
    metrics: dict[str, float],
) -> gate_rules.GateResult | None:
    """The verdict on a pairwise gate that its numbers cannot give, else ``None``.

    Without a champion there is nothing to beat: a missing pairwise figure passes. With
    one, a figure measured against another version (an older champion) refuses.
    """
    suite = gate_rules.pairwise_suite(gate.metric)
    if suite is None or candidate.version == (champion.version if champion else None):
        return None
    nan = float("nan")
    if champion is None:
        if gate.metric in metrics:
            return None
        return gate_rules.GateResult(gate.expression, True, nan, nan, "no champion to compare with")
    wanted = f"models:/{champion.model}/{champion.version}"
    against = candidate.tags.get(f"eval.{suite}.against", "")
    if against == wanted:
        return None
    return gate_rules.GateResult(
        gate.expression,
        False,
        metrics.get(gate.metric, nan),
        gate.against if gate.against is not None else nan,
        f"measured against {against or 'no version'}, but the champion is {wanted}: "
        f"run suite {suite!r} again",
    )


def withdraw(registry: ModelRegistry, name: str, *, alias: str, version: str, actor: Actor) -> bool:
    """Take ``alias`` off ``version`` (a challenger whose canary failed, or that became
    champion), recorded on the version; ``False`` when the alias no longer points there."""
    current = registry.by_alias(name, alias)
    if current is None or current.version != version:
        return False
    registry.tag_version(
        name,
        version,
        {
            f"{alias}.withdrawn_by": actor.name,
            f"{alias}.withdrawn_at": now_iso(),
            f"{alias}.withdraw_reason": actor.reason,
        },
    )
    registry.delete_alias(name, alias)
    return True


def rollback(registry: ModelRegistry, name: str, actor: Actor) -> PromotionResult:
    """Return ``@champion`` to the version that held it before the current one."""
    model = registry.model(name)
    current = model.aliases.get(CHAMPION)
    target, trail = rollback_target(model.champion_history, current)
    registry.version(name, target)  # it must still exist
    registry.set_alias(name, CHAMPION, target)
    registry.set_champion_history(name, trail)
    stamp = now_iso()
    if current is not None:
        registry.tag_version(
            name,
            current,
            {
                "champion.rolled_back_by": actor.name,
                "champion.rolled_back_at": stamp,
                "champion.rollback_reason": actor.reason,
            },
        )
    registry.tag_version(
        name,
        target,
        {
            "champion.promoted_by": actor.name,
            "champion.promoted_at": stamp,
            "champion.reason": actor.reason or f"rollback from version {current}",
            "champion.previous": current or "",
        },
    )
    return PromotionResult(True, name, target, CHAMPION, current, ())
