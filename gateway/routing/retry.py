"""When a failed attempt may be tried again: backoff and a retry budget.

Retries multiply load exactly when replicas are struggling, so they are capped
twice: per request (``max_attempts``) and across requests, by a budget that
allows retries up to a fraction of recent requests (plus a small floor, so a
quiet gateway can still retry).
"""

from __future__ import annotations

from dataclasses import dataclass, field


def backoff(attempt: int, *, base: float, cap: float, draw: float) -> float:
    """Seconds to wait before attempt ``attempt`` (2, 3, ...): full jitter over an
    exponential ceiling, ``draw`` in [0, 1) supplied by the caller."""
    ceiling = min(cap, base * float(2 ** max(0, attempt - 2)))
    return ceiling * draw


@dataclass(slots=True)
class RetryBudget:
    """Retries allowed: ``ratio`` of the requests of the last ``window`` seconds, at
    least ``floor_per_second``. Counted in one-second buckets."""

    ratio: float = 0.2
    floor_per_second: float = 5.0
    window: int = 10
    _requests: dict[int, int] = field(default_factory=dict)
    _retries: dict[int, int] = field(default_factory=dict)

    def request(self, now: float) -> None:
        self._bump(self._requests, now)

    def try_retry(self, now: float) -> bool:
        """Spend one retry if the budget allows it."""
        requests = self._sum(self._requests, now)
        retries = self._sum(self._retries, now)
        if retries >= requests * self.ratio + self.floor_per_second * self.window:
            return False
        self._bump(self._retries, now)
        return True

    def _bump(self, buckets: dict[int, int], now: float) -> None:
        second = int(now)
        buckets[second] = buckets.get(second, 0) + 1
        if len(buckets) > self.window * 2:
            for old in [s for s in buckets if s <= second - self.window]:
                del buckets[old]

    def _sum(self, buckets: dict[int, int], now: float) -> int:
        second = int(now)
        return sum(n for s, n in buckets.items() if s > second - self.window)
