"""Key lookups: cached for a few seconds, and one store query per key however many ask."""

from __future__ import annotations

import asyncio

import pytest

from gateway.auth import Authenticator
from gateway.errors import AuthenticationFailed, ServiceUnavailable
from gateway.keys import material
from gateway.keys.store import Principal

PRINCIPAL = Principal("key_1", "t", None, None, None, None, None)
GOOD = material.generate()
BAD = material.generate()


class CountingStore:
    def __init__(self) -> None:
        self.calls = 0

    async def principal(self, secret: str) -> Principal | None:
        self.calls += 1
        await asyncio.sleep(0.01)
        return PRINCIPAL if secret == GOOD else None


async def test_concurrent_lookups_share_one_query_and_expire() -> None:
    now = [0.0]
    store = CountingStore()
    auth = Authenticator(store, cache_seconds=2.0, clock=lambda: now[0])  # type: ignore[arg-type]
    found = await asyncio.gather(*(auth.authenticate(f"Bearer {GOOD}") for _ in range(128)))
    assert found == [PRINCIPAL] * 128
    assert store.calls == 1
    now[0] = 3.0  # past the cache time: one new query for everyone again
    await asyncio.gather(*(auth.authenticate(f"Bearer {GOOD}") for _ in range(64)))
    assert store.calls == 2


async def test_unknown_keys_are_remembered_briefly() -> None:
    now = [0.0]
    store = CountingStore()
    auth = Authenticator(store, cache_seconds=5.0, clock=lambda: now[0])  # type: ignore[arg-type]
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate(f"Bearer {BAD}")
    assert store.calls == 1
    now[0] = 1.5  # unknown keys are kept at most a second: a new key works at once
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(f"Bearer {BAD}")
    assert store.calls == 2


@pytest.mark.parametrize(
    "authorization",
    ["Bearer sk-nope", f"Bearer {GOOD}x", f"Bearer {GOOD[:-1]}!", "Bearer " + "a" * 10_000],
)
async def test_tokens_that_are_not_keys_never_reach_the_store(authorization: str) -> None:
    store = CountingStore()
    auth = Authenticator(store, cache_seconds=5.0)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(authorization)
    assert store.calls == 0


class StuckStore(CountingStore):
    """Answers the first lookup, then holds every lookup until let go (a blackholed
    database); after that, the key has been revoked."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def principal(self, secret: str) -> Principal | None:
        self.calls += 1
        if self.calls == 1:
            return PRINCIPAL
        await self.release.wait()
        return None


async def test_a_known_key_waits_briefly_on_a_stuck_store_then_the_answer_counts() -> None:
    now = [0.0]
    store = StuckStore()
    served_stale: list[int] = []
    auth = Authenticator(
        store,  # type: ignore[arg-type]
        cache_seconds=2.0,
        stale_seconds=600.0,
        served_stale=lambda: served_stale.append(1),
        refresh_wait_seconds=0.05,
        clock=lambda: now[0],
    )
    assert await auth.authenticate(f"Bearer {GOOD}") == PRINCIPAL
    now[0] = 3.0  # expired: looked up again, but the store holds the query
    found = await asyncio.gather(*(auth.authenticate(f"Bearer {GOOD}") for _ in range(16)))
    assert found == [PRINCIPAL] * 16 and store.calls == 2  # served as last seen, one query
    assert len(served_stale) == 16
    unknown = asyncio.ensure_future(auth.authenticate(f"Bearer {BAD}"))  # never seen: waits
    store.release.set()  # the held query answers: the key was revoked meanwhile
    with pytest.raises(AuthenticationFailed):
        await unknown
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(f"Bearer {GOOD}")
    assert store.calls == 3


class FailingStore(CountingStore):
    """Answers once, then fails (refused), then holds every lookup (blackholed)."""

    async def principal(self, secret: str) -> Principal | None:
        self.calls += 1
        if self.calls == 1:
            return PRINCIPAL
        if self.calls == 2:
            raise ServiceUnavailable("The key store is unreachable.", code="key_store_down")
        await asyncio.Event().wait()
        return None


async def test_while_the_store_is_down_known_keys_do_not_wait_for_it() -> None:
    now = [0.0]
    store = FailingStore()
    auth = Authenticator(
        store,  # type: ignore[arg-type]
        cache_seconds=2.0,
        stale_seconds=600.0,
        refresh_wait_seconds=60.0,  # far longer than the deadline below
        clock=lambda: now[0],
    )
    assert await auth.authenticate(f"Bearer {GOOD}") == PRINCIPAL
    now[0] = 3.0
    assert await auth.authenticate(f"Bearer {GOOD}") == PRINCIPAL  # the store failed: stale
    now[0] = 6.0  # the store down: the next lookup hangs, and nobody waits for it
    found = await asyncio.wait_for(auth.authenticate(f"Bearer {GOOD}"), timeout=10)
    assert found == PRINCIPAL and store.calls == 3
