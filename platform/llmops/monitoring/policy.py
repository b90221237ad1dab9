"""When data drift starts a retrain: pure decisions over plain data.

The check (:mod:`llmops.monitoring.drift`) says whether the data drifted; operational
drift (latency, errors, cache hits) never reaches this policy.

A drift *episode* starts at the first check that finds drift and ends at the
first check that does not; it starts at most one retrain (deduplication). A new
retrain also waits out the cooldown after the last one and stays within the
budget (retrains per rolling period). Checks on too few requests decide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class RetrainPolicy:
    min_samples: int = 100
    """Requests each window needs before a check decides anything."""
    cooldown: timedelta = timedelta(hours=6)
    """The shortest time between two retrains."""
    budget: int = 3
    """Retrains allowed per ``budget_period``."""
    budget_period: timedelta = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CheckFigures:
    """What one drift check measured (see :mod:`llmops.monitoring.drift`)."""

    reference_rows: int
    current_rows: int
    data_drifted: bool
    """Whether what users send changed (operational drift never retrains)."""


@dataclass(frozen=True, slots=True)
class PolicyState:
    """What the policy remembers between checks."""

    in_episode: bool = False
    episode_retrained: bool = False
    retrains: tuple[datetime, ...] = field(default_factory=tuple)
    """When past retrains started (those inside the budget period matter)."""


class Verdict(StrEnum):
    TOO_FEW_SAMPLES = "too_few_samples"
    NO_DRIFT = "no_drift"
    RETRAIN = "retrain"
    ALREADY_RETRAINED = "already_retrained"
    COOLDOWN = "cooldown"
    BUDGET_SPENT = "budget_spent"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    drifted: bool
    state: PolicyState
    """The state to remember for the next check."""

    @property
    def retrain(self) -> bool:
        return self.verdict is Verdict.RETRAIN


def enough_samples(figures: CheckFigures, policy: RetrainPolicy) -> bool:
    return min(figures.reference_rows, figures.current_rows) >= policy.min_samples


def decide(
    figures: CheckFigures, state: PolicyState, policy: RetrainPolicy, now: datetime
) -> Decision:
    """The verdict on one check, and the state the next check starts from."""
    if not enough_samples(figures, policy):
        return Decision(Verdict.TOO_FEW_SAMPLES, drifted=False, state=state)
    if not figures.data_drifted:
        ended = PolicyState(retrains=state.retrains)
        return Decision(Verdict.NO_DRIFT, drifted=False, state=ended)
    episode = PolicyState(
        in_episode=True, episode_retrained=state.episode_retrained, retrains=state.retrains
    )
    if state.in_episode and state.episode_retrained:
        return Decision(Verdict.ALREADY_RETRAINED, drifted=True, state=episode)
    if state.retrains and now - max(state.retrains) < policy.cooldown:
        return Decision(Verdict.COOLDOWN, drifted=True, state=episode)
    recent = tuple(t for t in state.retrains if now - t < policy.budget_period)
    if len(recent) >= policy.budget:
        return Decision(Verdict.BUDGET_SPENT, drifted=True, state=episode)
    started = PolicyState(in_episode=True, episode_retrained=True, retrains=(*recent, now))
    return Decision(Verdict.RETRAIN, drifted=True, state=started)
