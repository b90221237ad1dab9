"""In-process limits: exact for one gateway process, and nothing to run beside it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gateway.ratelimit.base import (
    Admission,
    Limit,
    LimitState,
    Unseeded,
    cost_of,
    settled,
)

SWEEP_SECONDS = 60.0
"""How often windows idle for longer than their length are dropped."""


@dataclass
class _Window:
    seconds: float
    period: bool = False
    """A period limit: no entries (nothing leaves before the period ends), and the
    reservations in ``costs`` are those not settled yet."""
    entries: deque[tuple[float, str]] = field(default_factory=deque)
    costs: dict[str, int] = field(default_factory=dict)
    used: int = 0
    pending: int = 0
    touched: float = 0.0

    def expire(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - self.seconds:
            _, rid = self.entries.popleft()
            self.used -= self.costs.pop(rid, 0)

    def wait_for_room(self, now: float, need: int) -> float:
        """Seconds until entries worth ``need`` have left the window."""
        freed = 0
        for at, rid in self.entries:
            freed += self.costs.get(rid, 0)
            if freed >= need:
                return max(0.0, at + self.seconds - now)
        return self.seconds

    def reset(self, now: float) -> float:
        return max(0.0, self.entries[0][0] + self.seconds - now) if self.entries else 0.0

    def add(self, now: float, reservation: str, cost: int) -> None:
        self.costs[reservation] = cost
        self.used += cost
        self.touched = now
        if self.period:
            self.pending += cost
        else:
            self.entries.append((now, reservation))

    def settle(self, reservation: str, cost: int) -> None:
        old = self.costs.get(reservation)
        if old is None:  # out of the window; a period count restarted: add it whole
            self.used += cost if self.period else 0
            return
        self.used += cost - old
        if self.period:
            del self.costs[reservation]
            self.pending -= old
        else:
            self.costs[reservation] = cost


class MemoryRateLimiter:
    """Sliding-window log per limit (a sum per period for budgets), in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._next_sweep = 0.0

    async def admit(
        self, limits: Sequence[Limit], *, tokens: int, money: int = 0, reservation: str
    ) -> Admission:
        now = self._clock()
        unseeded = [lim for lim in limits if lim.period and lim.key not in self._windows]
        if unseeded:
            raise Unseeded(unseeded)
        windows = [self._window(limit, now) for limit in limits]
        retry = 0.0
        exceeded: list[bool] = []
        for limit, window in zip(limits, windows, strict=True):
            cost = cost_of(limit, tokens, money)
            over = window.used + cost > limit.limit
            exceeded.append(over)
            if over and not limit.period:  # a period frees up when it ends (callers know)
                wait = (
                    window.wait_for_room(now, window.used + cost - limit.limit)
                    if cost <= limit.limit
                    else limit.window_seconds
                )
                retry = max(retry, wait)
        admitted = not any(exceeded)
        if admitted:
            for limit, window in zip(limits, windows, strict=True):
                window.add(now, reservation, cost_of(limit, tokens, money))
        states = tuple(
            LimitState(
                limit=limit,
                remaining=max(0, limit.limit - window.used),
                reset_seconds=window.reset(now),
                exceeded=over,
                pending=window.pending,
            )
            for limit, window, over in zip(limits, windows, exceeded, strict=True)
        )
        return Admission(
            admitted=admitted, reservation=reservation, retry_after_seconds=retry, states=states
        )

    async def seed(self, limit: Limit, used: int) -> None:
        if limit.key not in self._windows:
            self._windows[limit.key] = _Window(
                limit.window_seconds, period=True, used=used, touched=self._clock()
            )

    async def settle(
        self, limits: Sequence[Limit], *, reservation: str, tokens: int, money: int = 0
    ) -> None:
        for limit, cost in settled(limits, tokens, money):
            window = self._windows.get(limit.key)
            if window is not None:
                window.settle(reservation, cost)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._windows.clear()

    def _window(self, limit: Limit, now: float) -> _Window:
        if now >= self._next_sweep:
            # Idle windows are dropped so that memory follows the active callers only.
            self._sweep(now)
            self._next_sweep = now + SWEEP_SECONDS
        window = self._windows.get(limit.key)
        if window is None:
            window = self._windows[limit.key] = _Window(limit.window_seconds, limit.period)
        window.seconds = limit.window_seconds
        window.expire(now)
        return window

    def _sweep(self, now: float) -> None:
        """Drop the windows nothing was added to for longer than their length (a period
        count with reservations in flight stays)."""
        idle = [
            k for k, w in self._windows.items() if w.touched <= now - w.seconds and not w.pending
        ]
        for key in idle:
            del self._windows[key]
