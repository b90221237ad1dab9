"""The error bound: how often the semantic tier answers wrongly, measured on live traffic,
and the similarity from which it may answer at all.

Every verified candidate of a lookup (an entry the verifier accepted, at some cosine
similarity) is one of three things:

- **held**: below the scope's serving threshold, or the tier is still learning or off: the
  replica answers, as for any miss, and its answer is compared with the candidate's at no
  extra cost;
- **audited**: a would-be hit that the replica answers instead, a small random share of
  them (``audit_share``, never more), compared the same way;
- **served**: answered from the cache.

Each comparison is a sample (similarity, whether the two answers disagreed), kept in bins
of similarity beside the count of all candidates seen in each bin. A bin's wrong rate is
its share of disagreements (held candidates, all checked, and audited ones, a share
checked, are pooled: at one similarity they are taken to be wrong alike); for a
candidate threshold ``t``, the wrong rate of hits at ``t`` or above is the bins' rates
weighed by their traffic (a bin with traffic and no check counts as all wrong), and its
upper confidence bound is Wilson's on the stratified estimate's effective number of
samples. The serving
threshold is the lowest ``t`` whose bound is at most ``max_wrong_rate`` on at least
``bound_min_samples``; without one the tier serves nothing for that scope. A lower
threshold is taken only when its bound is below ``bound_loosen_margin`` of the target:
the tier tightens at once on evidence of errors and loosens only on evidence of safety.

Scopes: one per model, and one per (model, team) that is used once the team's own
samples suffice. Old evidence fades: every check weighs the earlier ones by
``1 - 1/bound_window``, so the estimate follows the traffic of the day. A change is
noticed at once: when the latest audits alone put the wrong rate over the target (their
lower confidence bound above it), the older evidence is all but dropped, the tier stops
serving, and it learns again.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from gateway.settings import CacheSettings

ALL_TEAMS = "*"
RECENT = 100
"""Checks of servable hits kept per scope to notice a change at once."""
CHANGE_FADE = 0.05
"""What remains of a scope's evidence once its latest checks show a change."""


class Verdict(StrEnum):
    SERVE = "serve"
    AUDIT = "audit"
    """A would-be hit answered by the replica, to be compared."""
    HOLD = "hold"
    """Not served (below the threshold, or the tier learning or off): compared for free."""


class State(StrEnum):
    LEARNING = "learning"
    """Not yet enough samples: nothing served, every candidate compared."""
    ON = "on"
    OFF = "off"
    """Enough samples, and no threshold meets the bound: nothing served."""


@dataclass(slots=True)
class _Bin:
    """The candidates of one similarity bin: seen, checked, and checked wrong."""

    seen: float = 0.0
    checked: float = 0.0
    wrong: float = 0.0

    def scale(self, factor: float) -> None:
        self.seen *= factor
        self.checked *= factor
        self.wrong *= factor


@dataclass(frozen=True, slots=True)
class Estimate:
    state: State
    threshold: float | None
    """The serving threshold (None while learning or off)."""
    rate: float
    """The estimated wrong-hit rate at the threshold (or of all samples when none)."""
    upper: float
    """Its upper confidence bound."""
    samples: float
    """The effective number of samples behind it."""


@dataclass(frozen=True, slots=True)
class _Region:
    threshold: float
    rate: float
    upper: float
    samples: float


@dataclass(slots=True)
class _Scope:
    bins: list[_Bin]
    threshold: float | None = None
    recent: deque[bool] = field(default_factory=lambda: deque(maxlen=RECENT))
    """The latest checks of hits the tier would serve now (wrong or not)."""
    estimate: Estimate = field(
        default_factory=lambda: Estimate(State.LEARNING, None, 0.0, 1.0, 0.0)
    )


def wilson_lower(rate: float, n: float, z: float) -> float:
    """The lower end of the Wilson score interval of a proportion over ``n`` trials."""
    if n <= 0:
        return 0.0
    centre = rate + z * z / (2 * n)
    spread = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def wilson_upper(rate: float, n: float, z: float) -> float:
    """The upper end of the Wilson score interval of a proportion over ``n`` trials."""
    if n <= 0:
        return 1.0
    centre = rate + z * z / (2 * n)
    spread = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / (1 + z * z / n))


def _z(confidence: float) -> float:
    """The one-sided normal quantile for ``confidence`` (e.g. 1.645 for 0.95)."""
    low, high = 0.0, 10.0
    for _ in range(60):
        mid = (low + high) / 2
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < confidence:
            low = mid
        else:
            high = mid
    return (low + high) / 2


class ErrorBound:
    """The live estimate per scope and the decision for each verified candidate."""

    def __init__(self, settings: CacheSettings, *, rng: random.Random | None = None) -> None:
        assert settings.max_wrong_rate is not None
        self._settings = settings
        self._target = settings.max_wrong_rate
        self._floor = floor = settings.similarity_threshold
        self._width = settings.bound_bin_width
        self._bins = max(1, math.ceil((1.0 - floor) / self._width - 1e-9))
        self._z = _z(settings.bound_confidence)
        self._rng = rng or random.Random()  # noqa: S311 (a sample, not a secret)
        self._scopes: dict[tuple[str, str], _Scope] = {}
        self._would_hit: dict[str, int] = {}
        self._audited: dict[str, int] = {}
        self._lock = threading.Lock()

    # -- the request path --------------------------------------------------------------

    def decide(self, model: str, team: str, similarity: float) -> Verdict:
        """What to do with a verified candidate at ``similarity``."""
        index = self._index(similarity)
        with self._lock:
            verdict = self._verdict(model, team, index)
            for key in ((model, ALL_TEAMS), (model, team)):
                self._scope(key).bins[index].seen += 1
            return verdict

    def _verdict(self, model: str, team: str, index: int) -> Verdict:
        threshold = self._effective(model, team).threshold
        if threshold is None or index < self._index(threshold):
            return Verdict.HOLD
        would = self._would_hit[model] = self._would_hit.get(model, 0) + 1
        audited = self._audited.get(model, 0)
        share = self._settings.audit_share
        # Drawn at twice the share, within a budget that never exceeds the share.
        if share > 0 and self._rng.random() < 2 * share and audited + 1 <= share * would:
            self._audited[model] = audited + 1
            return Verdict.AUDIT
        return Verdict.SERVE

    def record(
        self, model: str, team: str, similarity: float, *, wrong: bool, verdict: Verdict
    ) -> None:
        """One comparison (of a held or audited candidate): the cached answer against the
        replica's."""
        index = self._index(similarity)
        fading = 1.0 - 1.0 / self._settings.bound_window
        with self._lock:
            for key in ((model, ALL_TEAMS), (model, team)):
                scope = self._scope(key)
                for cell in scope.bins:  # older evidence fades with every check
                    cell.scale(fading)
                cell = scope.bins[index]
                cell.checked += 1
                cell.wrong += 1 if wrong else 0
                if verdict is Verdict.AUDIT:
                    scope.recent.append(wrong)
                    if self._changed(scope):
                        self._fade(scope, CHANGE_FADE)
                before = scope.threshold
                self._update(scope)
                if scope.threshold != before:
                    scope.recent.clear()

    def _changed(self, scope: _Scope) -> bool:
        """Whether the latest checks alone show the wrong rate over the target (its lower
        confidence bound above it): the traffic or the model changed."""
        n = len(scope.recent)
        if n < RECENT // 4:
            return False
        rate = sum(scope.recent) / n
        return wilson_lower(rate, n, self._z) > self._target

    @staticmethod
    def _fade(scope: _Scope, factor: float) -> None:
        for b in scope.bins:
            b.scale(factor)
        scope.recent.clear()

    # -- reading it ----------------------------------------------------------------------

    @property
    def target(self) -> float:
        return self._target

    def estimate(self, model: str, team: str = ALL_TEAMS) -> Estimate:
        with self._lock:
            scope = self._scopes.get((model, team))
            return scope.estimate if scope else Estimate(State.LEARNING, None, 0.0, 1.0, 0.0)

    def effective(self, model: str, team: str) -> Estimate:
        """The estimate that decides for ``team``: its own once it has enough samples."""
        with self._lock:
            return self._effective(model, team)

    def scopes(self) -> Iterator[tuple[str, str, Estimate]]:
        with self._lock:
            items = [(m, t, s.estimate) for (m, t), s in self._scopes.items()]
        yield from items

    def reasked(self) -> Iterator[tuple[str, int, int]]:
        """(model, would-be hits, of them answered by the replica to be compared)."""
        with self._lock:
            models = {m for m, _ in self._scopes} | set(self._would_hit)
            items = [(m, self._would_hit.get(m, 0), self._audited.get(m, 0)) for m in models]
        yield from items

    # -- inside --------------------------------------------------------------------------

    def _index(self, similarity: float) -> int:
        return max(0, min(self._bins - 1, int((similarity - self._floor) / self._width)))

    def _scope(self, key: tuple[str, str]) -> _Scope:
        scope = self._scopes.get(key)
        if scope is None:
            scope = self._scopes[key] = _Scope([_Bin() for _ in range(self._bins)])
        return scope

    def _effective(self, model: str, team: str) -> Estimate:
        own = self._scopes.get((model, team))
        if own is not None and own.estimate.state is not State.LEARNING:
            return own.estimate
        whole = self._scopes.get((model, ALL_TEAMS))
        return whole.estimate if whole else Estimate(State.LEARNING, None, 0.0, 1.0, 0.0)

    def _update(self, scope: _Scope) -> None:
        """The lowest threshold whose bound meets the target (lower than the present one
        only with ``bound_loosen_margin`` to spare)."""
        regions = self._regions(scope)
        minimum = self._settings.bound_min_samples
        current = scope.threshold
        chosen: _Region | None = None
        for region in regions:  # from the top bin down
            lower = current is None or region.threshold < current
            margin = self._settings.bound_loosen_margin if lower else 1.0
            if region.samples >= minimum and region.upper <= self._target * margin:
                chosen = region
        if chosen is not None:
            scope.threshold = chosen.threshold
            scope.estimate = Estimate(
                State.ON, chosen.threshold, chosen.rate, chosen.upper, chosen.samples
            )
            return
        scope.threshold = None
        if regions:
            whole = regions[-1]
            enough = any(r.samples >= minimum for r in regions)
            state = State.OFF if enough else State.LEARNING
            scope.estimate = Estimate(state, None, whole.rate, whole.upper, whole.samples)

    def _regions(self, scope: _Scope) -> list[_Region]:
        """For each threshold from the top bin down, the estimate of the hits at or above:
        each bin's share of wrong answers, weighed by its traffic (a bin with traffic and
        no check counts as all wrong)."""
        seen = mass = inverse = 0.0
        regions: list[_Region] = []
        for index in range(self._bins - 1, -1, -1):
            cell = scope.bins[index]
            weight = max(cell.seen, cell.checked)
            if weight <= 0:
                continue
            seen += weight
            if cell.checked > 0:
                mass += weight * cell.wrong / cell.checked
                inverse += weight * weight / cell.checked
            else:
                mass += weight  # never checked: counted as wrong
            rate = mass / seen
            n_eff = seen * seen / inverse if inverse > 0 else 0.0
            threshold = round(self._floor + index * self._width, 6)
            regions.append(_Region(threshold, rate, wilson_upper(rate, n_eff, self._z), n_eff))
        return regions
