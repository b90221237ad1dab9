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

SEED = "seed"


@dataclass
class _Window:
    seconds: float
    entries: deque[tuple[float, str]] = field(default_factory=deque)
    costs: dict[str, int] = field(default_factory=dict)
    used: int = 0

    def expire(self, now: float, window: float) -> None:
        while self.entries and self.entries[0][0] <= now - window:
            _, rid = self.entries.popleft()
            self.used -= self.costs.pop(rid, 0)

    def wait_for_room(self, now: float, window: float, need: int) -> float:
        """Seconds until entries worth ``need`` have left the window."""
        freed = 0
        for at, rid in self.entries:
            freed += self.costs.get(rid, 0)
            if freed >= need:
                return max(0.0, at + window - now)
        return window

    def reset(self, now: float, window: float) -> float:
        return max(0.0, self.entries[0][0] + window - now) if self.entries else 0.0


class MemoryRateLimiter:
    """Sliding-window log per limit, kept in this process's memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._next_sweep = 0.0

    async def admit(
        self, limits: Sequence[Limit], *, tokens: int, money: int = 0, reservation: str
    ) -> Admission:
        now = self._clock()
        unseeded = [lim for lim in limits if lim.seeded and lim.key not in self._windows]
        if unseeded:
            raise Unseeded(unseeded)
        windows = [self._window(limit, now) for limit in limits]
        retry = 0.0
        exceeded: list[bool] = []
        for limit, window in zip(limits, windows, strict=True):
            cost = cost_of(limit, tokens, money)
            over = window.used + cost > limit.limit
            exceeded.append(over)
            if over:
                wait = (
                    window.wait_for_room(
                        now, limit.window_seconds, window.used + cost - limit.limit
                    )
                    if cost <= limit.limit
                    else limit.window_seconds
                )
                retry = max(retry, wait)
        admitted = not any(exceeded)
        if admitted:
            for limit, window in zip(limits, windows, strict=True):
                cost = cost_of(limit, tokens, money)
                window.entries.append((now, reservation))
                window.costs[reservation] = cost
                window.used += cost
        states = tuple(
            LimitState(
                limit=limit,
                remaining=max(0, limit.limit - window.used),
                reset_seconds=window.reset(now, limit.window_seconds),
                exceeded=over,
            )
            for limit, window, over in zip(limits, windows, exceeded, strict=True)
        )
        return Admission(
            admitted=admitted, reservation=reservation, retry_after_seconds=retry, states=states
        )

    async def seed(self, limit: Limit, used: int) -> None:
        if limit.key in self._windows:
            return
        window = self._windows[limit.key] = _Window(limit.window_seconds)
        window.entries.append((self._clock(), SEED))
        window.costs[SEED] = window.used = used

    async def settle(
        self, limits: Sequence[Limit], *, reservation: str, tokens: int, money: int = 0
    ) -> None:
        for limit, cost in settled(limits, tokens, money):
            window = self._windows.get(limit.key)
            if window is None or reservation not in window.costs:
                continue  # already out of the window: nothing left to correct
            window.used += cost - window.costs[reservation]
            window.costs[reservation] = cost

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._windows.clear()

    def _window(self, limit: Limit, now: float) -> _Window:
        if now >= self._next_sweep:
            # Idle windows are dropped so that memory follows the active callers only.
            self._sweep(now)
            self._next_sweep = now + limit.window_seconds
        window = self._windows.get(limit.key)
        if window is None:
            window = self._windows[limit.key] = _Window(limit.window_seconds)
        window.seconds = limit.window_seconds
        window.expire(now, limit.window_seconds)
        return window

    def _sweep(self, now: float) -> None:
        idle = [
            k
            for k, w in self._windows.items()
            if not w.entries or w.entries[-1][0] <= now - w.seconds
        ]
        for key in idle:
            del self._windows[key]
