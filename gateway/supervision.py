"""Background loops that restart when they fail, and say how they are doing.

The gateway's background work (the request-log writer and pruner, the routes watcher,
the replicas' health checker, the shared cache's feed follower) runs under a
:class:`Supervisor`: a loop that raises is logged, counted and started again after a
backoff (0.1 s doubling to 30 s); one that runs for a minute again is back to the short
backoff. ``/readyz`` lists each loop; a loop failing for longer than the readiness grace
takes the pod out of its Service, and for longer than the liveness grace fails
``/healthz`` too, so that the kubelet restarts what only a restart fixes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

log = logging.getLogger("llmops.gateway.supervision")

FIRST_BACKOFF = 0.1
MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0
"""A loop that runs this long after a restart has recovered: the next failure starts the
backoff again from its first step."""


@dataclass
class LoopState:
    name: str
    running: bool = False
    failures: int = 0
    """Failures since it last ran for ``HEALTHY_AFTER``."""
    failing_since: float | None = None
    last_error: str = ""

    def json(self, now: float) -> dict[str, object]:
        out: dict[str, object] = {"running": self.running, "failures": self.failures}
        if self.failing_since is not None and not self.running:
            out["failing_for_seconds"] = round(now - self.failing_since, 1)
            out["last_error"] = self.last_error
        return out


class Supervisor:
    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._states: dict[str, LoopState] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._registry = registry
        self._restarts: Counter | None = None
        self._collector: Collector | None = None
        if registry is not None:
            self._restarts = Counter(
                "llmops_gateway_loop_restarts_total",
                "Background loops restarted after a failure, by loop.",
                ["loop"],
                registry=registry,
            )
            self._collector = _LoopGauges(self)
            registry.register(self._collector)

    def spawn(self, name: str, loop: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run ``loop`` until cancelled, restarting it whenever it raises."""
        state = self._states.setdefault(name, LoopState(name))
        task = asyncio.create_task(self._supervise(state, loop), name=name)
        self._tasks.append(task)
        return task

    async def _supervise(self, state: LoopState, loop: Callable[[], Awaitable[None]]) -> None:
        backoff = FIRST_BACKOFF
        while True:
            started = self._clock()
            state.running = True
            try:
                await _until_cancelled(loop)
            except asyncio.CancelledError:
                state.running = False
                raise
            except Exception as e:
                state.running = False
                now = self._clock()
                if now - started >= HEALTHY_AFTER:
                    backoff, state.failures, state.failing_since = FIRST_BACKOFF, 0, None
                state.failures += 1
                state.failing_since = state.failing_since or now
                state.last_error = type(e).__name__
                if self._restarts is not None:
                    self._restarts.labels(state.name).inc()
                log.exception(
                    "background loop failed: restarting in %.1f s",
                    backoff,
                    extra={"loop": state.name, "failures": state.failures},
                )
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)

    def states(self) -> Iterator[LoopState]:
        yield from self._states.values()

    def failing_longer_than(self, seconds: float) -> list[str]:
        now = self._clock()
        return [
            s.name
            for s in self._states.values()
            if s.failing_since is not None and not s.running and now - s.failing_since > seconds
        ]

    def report(self) -> dict[str, dict[str, object]]:
        now = self._clock()
        return {s.name: s.json(now) for s in self._states.values()}

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._registry is not None:
            assert self._restarts is not None and self._collector is not None
            self._registry.unregister(self._restarts)
            self._registry.unregister(self._collector)
            self._registry = None


async def _until_cancelled(loop: Callable[[], Awaitable[None]]) -> None:
    await loop()
    raise RuntimeError("the loop returned")  # loops run until cancelled


class _LoopGauges(Collector):
    def __init__(self, supervisor: Supervisor) -> None:
        self._supervisor = supervisor

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "llmops_gateway_loop_up",
            "Whether a background loop is running (1) or not.",
            labels=["loop"],
        )
        for state in self._supervisor.states():
            up.add_metric([state.name], 1.0 if state.running else 0.0)
        yield up
