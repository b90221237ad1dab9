"""The limit arithmetic, identical on both backends (Redis runs for real)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from gateway.keys.store import Principal
from gateway.ratelimit import policy
from gateway.ratelimit.base import Limit, LimitKind, RateLimiter, Unseeded
from gateway.ratelimit.memory import MemoryRateLimiter
from gateway.ratelimit.redis import RedisRateLimiter


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    backend: RateLimiter
    if request.param == "memory":
        backend = MemoryRateLimiter()
    else:
        backend = RedisRateLimiter.from_url(request.getfixturevalue("redis_url"))
    yield backend
    await backend.close()


def limit(kind: LimitKind, value: int, window: float = 60.0) -> Limit:
    return Limit(
        name=f"x_{kind}",
        key=f"test:{uuid.uuid4().hex}",
        kind=kind,
        limit=value,
        window_seconds=window,
    )


async def admit(limiter: RateLimiter, limits: list[Limit], tokens: int) -> bool:
    admission = await limiter.admit(limits, tokens=tokens, reservation=uuid.uuid4().hex)
    return admission.admitted


async def test_requests_limit_admits_exactly_the_limit(limiter: RateLimiter) -> None:
    rpm = limit(LimitKind.REQUESTS, 5)
    results = [await admit(limiter, [rpm], tokens=100) for _ in range(8)]
    assert results == [True] * 5 + [False] * 3


async def test_refusal_counts_nothing_against_any_limit(limiter: RateLimiter) -> None:
    rpm, tpm = limit(LimitKind.REQUESTS, 100), limit(LimitKind.TOKENS, 100)
    assert await admit(limiter, [rpm, tpm], tokens=60)
    assert not await admit(limiter, [rpm, tpm], tokens=60)  # tokens refuse...
    admission = await limiter.admit([rpm, tpm], tokens=40, reservation="r")
    assert admission.admitted  # ...and the refused request took no request slot nor tokens
    remaining = {s.limit.kind: s.remaining for s in admission.states}
    assert remaining == {LimitKind.REQUESTS: 98, LimitKind.TOKENS: 0}


async def test_settlement_frees_what_was_not_used(limiter: RateLimiter) -> None:
    tpm = limit(LimitKind.TOKENS, 100)
    assert await admit(limiter, [tpm], tokens=80)
    first = await limiter.admit([tpm], tokens=80, reservation="second")
    assert not first.admitted
    reserved = await limiter.admit([tpm], tokens=20, reservation="r1")
    assert reserved.admitted
    await limiter.settle([tpm], reservation="r1", tokens=5)  # used 5 of 20
    assert await admit(limiter, [tpm], tokens=15)
    assert not await admit(limiter, [tpm], tokens=1)


async def test_usage_beyond_the_reservation_is_counted(limiter: RateLimiter) -> None:
    tpm = limit(LimitKind.TOKENS, 100)
    assert (await limiter.admit([tpm], tokens=10, reservation="r")).admitted
    await limiter.settle([tpm], reservation="r", tokens=95)
    assert not await admit(limiter, [tpm], tokens=10)


async def test_window_slides_and_retry_after_says_when(limiter: RateLimiter) -> None:
    rpm = limit(LimitKind.REQUESTS, 2, window=1.0)
    assert await admit(limiter, [rpm], 1)
    await asyncio.sleep(0.5)
    assert await admit(limiter, [rpm], 1)
    refused = await limiter.admit([rpm], tokens=1, reservation="x")
    assert not refused.admitted
    assert 0.3 <= refused.retry_after_seconds <= 0.55  # when the first entry leaves
    assert refused.exceeded() == (rpm,)
    await asyncio.sleep(refused.retry_after_seconds + 0.05)
    assert await admit(limiter, [rpm], 1)


async def test_a_request_bigger_than_the_limit_waits_a_whole_window(limiter: RateLimiter) -> None:
    tpm = limit(LimitKind.TOKENS, 100, window=30)
    refused = await limiter.admit([tpm], tokens=101, reservation="x")
    assert not refused.admitted and refused.retry_after_seconds == pytest.approx(30)


async def test_concurrent_admissions_never_overshoot(limiter: RateLimiter) -> None:
    tpm = limit(LimitKind.TOKENS, 1000)
    results = await asyncio.gather(*(admit(limiter, [tpm], tokens=7) for _ in range(300)))
    assert sum(results) == 1000 // 7


def test_policy_limits_and_headers() -> None:
    principal = Principal(
        "key_1", "team", None, key_rpm=10, key_tpm=None, team_rpm=100, team_tpm=5000
    )
    limits = policy.limits_for(principal, 60)
    assert [lim.name for lim in limits] == ["key_rpm", "team_rpm", "team_tpm"]
    assert len({lim.key for lim in limits}) == 3
    assert all("{t:team}" in lim.key for lim in limits)
    assert policy.go_duration(0.25) == "250ms"
    assert policy.go_duration(1.5) == "1.5s"
    assert policy.go_duration(90) == "1m30s"


def budget(value: int) -> Limit:
    return Limit(
        name="team_budget",
        key=f"test:{uuid.uuid4().hex}",
        kind=LimitKind.BUDGET,
        limit=value,
        window_seconds=86_400.0,
    )


async def test_a_budget_starts_from_its_seed_and_holds(limiter: RateLimiter) -> None:
    spent = budget(10_000_000_000)  # ten units of the currency, in nano-units
    rpm = limit(LimitKind.REQUESTS, 100)
    with pytest.raises(Unseeded) as raised:
        await limiter.admit([rpm, spent], tokens=1, money=1, reservation="r0")
    assert raised.value.limits == (spent,)
    again = await limiter.admit([rpm], tokens=1, reservation="r-check")
    assert again.states[0].remaining == 99  # the unseeded admission counted nothing
    await limiter.seed(spent, 9_000_000_000)
    await limiter.seed(spent, 0)  # a second seed (another replica) changes nothing
    first = await limiter.admit([spent], tokens=1, money=600_000_000, reservation="a")
    assert first.admitted and first.states[0].remaining == 400_000_000
    second = await limiter.admit([spent], tokens=1, money=600_000_000, reservation="b")
    assert not second.admitted and second.states[0].exceeded
    # The first one cost less than reserved: the rest frees up for the second.
    await limiter.settle([spent], reservation="a", tokens=1, money=100_000_000)
    third = await limiter.admit([spent], tokens=1, money=600_000_000, reservation="c")
    assert third.admitted and third.states[0].remaining == 300_000_000


async def test_money_and_tokens_settle_each_to_their_own(limiter: RateLimiter) -> None:
    tpm, spent = limit(LimitKind.TOKENS, 1000), budget(10**15)
    await limiter.seed(spent, 0)
    await limiter.admit([tpm, spent], tokens=500, money=123_456_789_012_345, reservation="x")
    await limiter.settle([tpm, spent], reservation="x", tokens=7, money=98_765_432_109_876)
    after = await limiter.admit([tpm, spent], tokens=0, money=0, reservation="y")
    remaining = {s.limit.kind: s.remaining for s in after.states}
    # Amounts past 10^14 stay whole numbers through Redis's Lua.
    assert remaining == {LimitKind.TOKENS: 993, LimitKind.BUDGET: 10**15 - 98_765_432_109_876}


async def test_a_budget_keeps_only_what_is_in_flight(limiter: RateLimiter) -> None:
    spent = budget(10**12)
    await limiter.seed(spent, 0)
    for i in range(50):
        await limiter.admit([spent], tokens=0, money=1000, reservation=f"r{i}")
        await limiter.settle([spent], reservation=f"r{i}", tokens=0, money=10)
    held = await limiter.admit([spent], tokens=0, money=400, reservation="held")
    assert held.states[0].pending == 400  # only the one not settled yet
    assert held.states[0].remaining == 10**12 - 500 - 400
    if isinstance(limiter, RedisRateLimiter):  # one entry in flight, not one per request
        keys = [f"{spent.key}:h", f"{spent.key}:z"]
        assert await limiter._redis.call("HLEN", keys[0]) == 1
    # A reservation the count never saw (its keys were lost, and started again from the
    # spend table, which did not hold this request yet) is added whole.
    await limiter.settle([spent], reservation="lost", tokens=0, money=7)
    probe = await limiter.admit([spent], tokens=0, money=0, reservation="probe")
    assert probe.states[0].remaining == 10**12 - 507 - 400
