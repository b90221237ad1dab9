"""Routing decisions on plain data: strategies, splits, breakers, budgets, health."""

from __future__ import annotations

import collections
import random

import pytest

from gateway.routing import retry, strategies
from gateway.routing.circuit import CircuitBreaker, CircuitState
from gateway.routing.health import judge
from gateway.routing.pools import ModelPool, Replica, Strategy, VersionPool


def replicas(*urls: str, outstanding: tuple[int, ...] = ()) -> list[Replica]:
    out = [Replica(u) for u in urls]
    for replica, n in zip(out, outstanding, strict=False):
        replica.outstanding = n
    return out


def test_least_outstanding_prefers_idle_replicas_and_takes_turns() -> None:
    a, b, c = replicas("a", "b", "c", outstanding=(2, 0, 0))
    assert strategies.least_outstanding([a, b, c], 0).url == "b"
    assert strategies.least_outstanding([a, b, c], 2).url == "c"
    idle = replicas("x", "y")
    assert [strategies.least_outstanding(idle, t).url for t in range(4)] == ["x", "y", "x", "y"]
    assert [strategies.round_robin(idle, t).url for t in range(3)] == ["x", "y", "x"]


def test_rendezvous_keeps_keys_in_place_and_moves_only_a_lost_replicas_keys() -> None:
    four = replicas("a", "b", "c", "d")
    keys = [f"session-{i}" for i in range(2000)]
    before = {k: strategies.rendezvous(four, k).url for k in keys}
    assert before == {k: strategies.rendezvous(four, k).url for k in keys}  # stable
    spread = collections.Counter(before.values())
    assert min(spread.values()) > 2000 / 4 * 0.8  # even
    three = [r for r in four if r.url != "c"]
    after = {k: strategies.rendezvous(three, k).url for k in keys}
    moved = [k for k in keys if before[k] != after[k]]
    assert moved and all(before[k] == "c" for k in moved)


def test_weighted_split_follows_weights_and_sessions_stick() -> None:
    rng = random.Random(7)
    firsts = collections.Counter(
        strategies.weighted_order([90, 10], strategies.draw_for(None, rng))[0]
        for _ in range(10_000)
    )
    assert 0.08 < firsts[1] / 10_000 < 0.12
    draw = strategies.draw_for("alice", rng)
    assert draw == strategies.draw_for("alice", random.Random(1))
    assert strategies.weighted_order([0, 1], 0.0) == [1, 0]
    assert strategies.weighted_order([1, 3, 2], 0.99) == [2, 1, 0]


def pool(
    *versions: tuple[str, float, list[Replica]], strategy: Strategy = Strategy.LEAST_OUTSTANDING
) -> ModelPool:
    return ModelPool(
        model="m", versions=[VersionPool(v, w, r) for v, w, r in versions], strategy=strategy
    )


def test_a_pick_skips_excluded_unhealthy_and_open_replicas_then_other_versions() -> None:
    stable, canary = replicas("s1", "s2"), replicas("c1")
    p = pool(("stable", 0.0, stable), ("canary", 1.0, canary))
    assert p.pick(now=0).replica.url == "c1"  # type: ignore[union-attr]
    canary[0].healthy = False
    pick = p.pick(now=0)
    assert pick is not None and pick.version.version == "stable"
    stable[0].breaker = CircuitBreaker(failure_threshold=1)
    stable[0].breaker.failed(0)
    assert p.pick(now=0).replica.url == "s2"  # type: ignore[union-attr]
    assert p.pick(exclude={stable[1]}, now=0) is None


def test_session_strategy_sends_a_session_to_one_replica() -> None:
    p = pool(("v", 1.0, replicas("a", "b", "c")), strategy=Strategy.SESSION)
    chosen = {p.pick(draw=p.draw("s"), affinity="s", now=0).replica.url for _ in range(20)}  # type: ignore[union-attr]
    assert len(chosen) == 1
    spread = {p.pick(affinity=None, now=0).replica.url for _ in range(20)}  # type: ignore[union-attr]
    assert len(spread) == 3  # without a key: least outstanding


def test_circuit_opens_after_failures_probes_once_and_backs_off() -> None:
    breaker = CircuitBreaker(failure_threshold=3, open_seconds=10, max_open_seconds=25)
    for _ in range(2):
        breaker.failed(0)
    breaker.succeeded()  # failures must be in a row
    for _ in range(3):
        breaker.failed(1)
    assert breaker.state(5) is CircuitState.OPEN and not breaker.available(5)
    assert breaker.state(11) is CircuitState.HALF_OPEN and breaker.available(11)
    breaker.sent(11)
    assert not breaker.available(11.5)  # one probe at a time
    breaker.failed(12)  # the probe failed: open twice as long
    assert breaker.state(31) is CircuitState.OPEN and breaker.state(32) is CircuitState.HALF_OPEN
    breaker.sent(32)
    breaker.failed(32)
    assert breaker.open_for == 25  # capped
    breaker.sent(57)
    breaker.released()  # the probe's client left: another may probe
    assert breaker.available(57)
    breaker.succeeded()
    assert breaker.state(57) is CircuitState.CLOSED and breaker.failures == 0


def test_retry_budget_caps_retries_to_a_share_of_requests() -> None:
    budget = retry.RetryBudget(ratio=0.2, floor_per_second=0.5, window=10)
    for _ in range(100):
        budget.request(100.0)
    allowed = sum(budget.try_retry(100.0) for _ in range(100))
    assert allowed == 25  # 20% of 100, plus the floor of 0.5/s over 10 s
    assert budget.try_retry(111.0)  # the window moved on


@pytest.mark.parametrize(("attempt", "ceiling"), [(2, 0.025), (3, 0.05), (4, 0.1), (10, 0.5)])
def test_backoff_is_jittered_under_an_exponential_ceiling(attempt: int, ceiling: float) -> None:
    assert retry.backoff(attempt, base=0.025, cap=0.5, draw=0.999) == pytest.approx(ceiling * 0.999)
    assert retry.backoff(attempt, base=0.025, cap=0.5, draw=0.0) == 0


def test_health_takes_a_replica_out_after_failed_probes_and_back_at_once() -> None:
    replica = Replica("r")
    seen = []
    for ok in (False, False, False, True):
        judge(replica, ok, 2, probed_at=10.0)
        seen.append(replica.healthy)
    assert seen == [True, False, False, True]
    assert replica.probe_failures == 0


def test_a_failed_probe_takes_out_at_once_a_replica_that_stopped_answering() -> None:
    busy, hung = Replica("busy", outstanding=3, answered_at=10.5), Replica("hung", outstanding=3)
    abandoned: list[str] = []
    hung.on_lost(lambda: abandoned.append("waiting on hung"))
    stop = busy.on_lost(lambda: abandoned.append("waiting on busy"))
    for replica in (busy, hung):
        judge(replica, False, 2, probed_at=10.0)
    assert (busy.healthy, hung.healthy) == (True, False)  # busy answered since the probe
    assert abandoned == ["waiting on hung"]
    stop()
    judge(busy, False, 2, probed_at=11.0)  # the second failure in a row
    assert not busy.healthy and abandoned == ["waiting on hung"]
