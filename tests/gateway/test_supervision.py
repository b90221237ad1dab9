"""Background loops restart after a failure, with a backoff, and say how they are doing."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, generate_latest

from gateway.supervision import Supervisor
from llmops.serving.echo import EchoServer
from tests.support.gateways import gateway_in_thread, settings_for
from tests.support.http import call
from tests.support.waiting import wait_until


async def test_a_failing_loop_is_restarted_counted_and_reported() -> None:
    registry = CollectorRegistry()
    now = [0.0]
    supervisor = Supervisor(registry, clock=lambda: now[0])
    runs: list[int] = []
    settled = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) <= 3:
            raise ConnectionError("the store went away")
        settled.set()
        await asyncio.Event().wait()  # runs until cancelled

    supervisor.spawn("flaky", flaky)
    await asyncio.wait_for(settled.wait(), 10)
    assert len(runs) == 4
    metrics = generate_latest(registry).decode()
    assert 'llmops_gateway_loop_restarts_total{loop="flaky"} 3.0' in metrics
    assert 'llmops_gateway_loop_up{loop="flaky"} 1.0' in metrics
    assert supervisor.report()["flaky"]["running"] is True
    assert supervisor.failing_longer_than(0) == []  # running again
    await supervisor.close()


async def test_a_loop_that_keeps_failing_is_named_past_the_grace() -> None:
    now = [0.0]
    supervisor = Supervisor(clock=lambda: now[0])
    failed = asyncio.Event()

    async def broken() -> None:
        failed.set()
        raise RuntimeError("always")

    supervisor.spawn("broken", broken)
    await asyncio.wait_for(failed.wait(), 10)
    await wait_until(lambda: _report(supervisor), lambda r: r["running"] is False)
    assert supervisor.failing_longer_than(30) == []
    now[0] = 31.0
    assert supervisor.failing_longer_than(30) == ["broken"]
    report = supervisor.report()["broken"]
    assert report["last_error"] == "RuntimeError" and report["failures"] != 0
    await supervisor.close()


async def _report(supervisor: Supervisor) -> dict[str, object]:
    return supervisor.report()["broken"]


def test_readiness_lists_the_gateways_loops(echo: EchoServer, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url, {"echo": [echo.url]}, request_log={"flush_seconds": 0.05})
    with gateway_in_thread(settings) as gateway:
        body = call("GET", f"{gateway.url}/readyz").json()
        assert body["ready"] is True and body["degraded"] is False
        assert {"request-log writer", "health checker"} <= set(body["loops"])
        assert all(loop["running"] for loop in body["loops"].values())
