"""The rate-limit seam: what a backend is asked, and what it answers.

The algorithm is a sliding-window log: every admitted request leaves an entry
(its time and its cost) in each limit it was counted against; an admission
first drops the entries older than the window, then admits only if every limit
still has room for the new cost. Token costs are reservations made before the
upstream answers; :meth:`RateLimiter.settle` replaces one with the real usage
when the response ends. Over any window, admitted cost never exceeds the limit
by more than what settlements added beyond their reservations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class LimitKind(StrEnum):
    REQUESTS = "requests"
    TOKENS = "tokens"


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit an admission is checked against."""

    name: str
    """What the limit is, for metrics: ``key_rpm``, ``team_tpm``..."""
    key: str
    """Where its window lives (a Redis key prefix, or a dictionary key)."""
    kind: LimitKind
    limit: int
    window_seconds: float


@dataclass(frozen=True, slots=True)
class LimitState:
    """A limit as the admission left it, for the ``x-ratelimit-*`` headers."""

    limit: Limit
    remaining: int
    reset_seconds: float
    """Time until the oldest entry leaves the window (room starts to free up)."""
    exceeded: bool


@dataclass(frozen=True, slots=True)
class Admission:
    admitted: bool
    reservation: str
    """Identifies this admission's entries, for :meth:`RateLimiter.settle`."""
    retry_after_seconds: float
    """When refused: the time until every exceeded limit has room for the cost."""
    states: tuple[LimitState, ...]

    def exceeded(self) -> tuple[Limit, ...]:
        return tuple(s.limit for s in self.states if s.exceeded)


def cost_of(limit: Limit, tokens: int) -> int:
    return 1 if limit.kind is LimitKind.REQUESTS else tokens


class RateLimiter(Protocol):
    async def admit(self, limits: Sequence[Limit], *, tokens: int, reservation: str) -> Admission:
        """Count one request reserving ``tokens`` against every limit, or refuse it whole."""
        ...

    async def settle(self, limits: Sequence[Limit], *, reservation: str, tokens: int) -> None:
        """Replace the reservation's token cost by ``tokens`` (the real usage)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
