"""The rate-limit seam: what a backend is asked, and what it answers.

The algorithm is a sliding-window log: every admitted request leaves an entry
(its time and its cost) in each limit it was counted against; an admission
first drops the entries older than the window, then admits only if every limit
still has room for the new cost. Token costs are reservations made before the
upstream answers; :meth:`RateLimiter.settle` replaces one with the real usage
when the response ends. Over any window, admitted cost never exceeds the limit
by more than what settlements added beyond their reservations. Budgets are the same
log over a calendar period, counting money instead of tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class LimitKind(StrEnum):
    REQUESTS = "requests"
    TOKENS = "tokens"
    BUDGET = "budget"
    """Money, in nano-units of the currency, over a calendar period (the limit's key names
    the period, and its window outlasts it: nothing leaves the count before it ends)."""


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

    @property
    def period(self) -> bool:
        """A count over a calendar period (a budget): no entry leaves it before the period
        ends, a settled reservation is forgotten, and the count starts from what was spent
        before (an admission finding none raises :class:`Unseeded`)."""
        return self.kind is LimitKind.BUDGET


@dataclass(frozen=True, slots=True)
class LimitState:
    """A limit as the admission left it, for the ``x-ratelimit-*`` headers."""

    limit: Limit
    remaining: int
    reset_seconds: float
    """Time until the oldest entry leaves the window (room starts to free up)."""
    exceeded: bool
    pending: int = 0
    """A period limit's reservations not settled yet (part of what it counts as used)."""


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


class Unseeded(Exception):
    """Period limits with no count yet (first use in the period, or the store lost it)."""

    def __init__(self, limits: Sequence[Limit]) -> None:
        super().__init__(", ".join(limit.key for limit in limits))
        self.limits = tuple(limits)


@dataclass(frozen=True, slots=True)
class Ticket:
    """What admission counted for one request: the settlement corrects exactly this."""

    tokens: int
    """Tokens reserved: the prompt and the completion it may write."""
    money: int = 0
    """Money reserved (nano-units): the most the request may cost."""
    limits: tuple[Limit, ...] = ()
    """The limits and budgets it was counted against (none: admitted without limits)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """``x-ratelimit-*`` as the admission left the limits."""


def cost_of(limit: Limit, tokens: int, money: int = 0) -> int:
    if limit.kind is LimitKind.REQUESTS:
        return 1
    return tokens if limit.kind is LimitKind.TOKENS else money


def settled(limits: Sequence[Limit], tokens: int, money: int) -> list[tuple[Limit, int]]:
    """The limits a settlement corrects, with each one's real cost (a request stays a
    request: request limits are never corrected)."""
    return [
        (lim, cost_of(lim, tokens, money)) for lim in limits if lim.kind is not LimitKind.REQUESTS
    ]


class RateLimiter(Protocol):
    async def admit(
        self, limits: Sequence[Limit], *, tokens: int, money: int = 0, reservation: str
    ) -> Admission:
        """Count one request reserving ``tokens`` and ``money`` against every limit, or
        refuse it whole. Raises :class:`Unseeded` (admitting nothing) when a period limit
        has no count: :meth:`seed` it, then admit again."""
        ...

    async def seed(self, limit: Limit, used: int) -> None:
        """Start ``limit``'s count at ``used``, unless it has one already."""
        ...

    async def settle(
        self, limits: Sequence[Limit], *, reservation: str, tokens: int, money: int = 0
    ) -> None:
        """Replace the reservation's token and money costs by the real ones."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
