"""Active health checks: each replica probed in the background, out of rotation while
its probes fail, back in at the first success.

Passive checks (the circuit breakers) only learn from traffic; probes also catch a
replica that is down while idle, before a request pays for finding out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from gateway.routing.pools import Replica
from gateway.supervision import Supervisor

log = logging.getLogger("llmops.gateway.health")

Probe = Callable[[str], Awaitable[bool]]


def judge(replica: Replica, ok: bool, unhealthy_after: int, probed_at: float) -> None:
    """Update ``replica`` with the result of one probe sent at ``probed_at``. A failed
    probe takes out at once a replica that has requests in flight and has answered none
    since the probe was sent: it is hung, and its waiting requests are tried elsewhere."""
    if ok:
        replica.probe_failures = 0
        replica.healthy = True
        return
    replica.probe_failures += 1
    hung = replica.outstanding > 0 and replica.answered_at < probed_at
    if replica.healthy and (replica.probe_failures >= unhealthy_after or hung):
        replica.healthy = False
        replica.lost()


class HealthChecker:
    def __init__(
        self,
        replicas: Callable[[], Sequence[Replica]],
        probe: Probe,
        *,
        interval_seconds: float,
        unhealthy_after: int,
        supervisor: Supervisor | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._supervisor = supervisor or Supervisor()
        self._replicas = replicas
        self._probe = probe
        self._interval = interval_seconds
        self._unhealthy_after = unhealthy_after
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._interval > 0:
            self._task = self._supervisor.spawn("health checker", self._run)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def check_once(self) -> None:
        replicas = list(self._replicas())  # the current routes (a reload may change them)
        probed_at = self._clock()
        results = await asyncio.gather(*(self._probe(r.url) for r in replicas))
        for replica, ok in zip(replicas, results, strict=True):
            was = replica.healthy
            judge(replica, ok, self._unhealthy_after, probed_at)
            if replica.healthy != was:
                log.warning(
                    "replica %s",
                    "back in rotation" if ok else "out of rotation",
                    extra={"upstream": replica.url},
                )

    async def _run(self) -> None:
        while True:
            await self.check_once()
            await asyncio.sleep(self._interval)
