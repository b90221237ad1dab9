"""Both cache stores on the same contract: exact reads, nearest entries, expiry and bounds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
import pytest

from gateway.cache.base import CacheStore, Entry
from gateway.cache.memory import MemoryCacheStore
from gateway.cache.redis import RedisCacheStore
from gateway.resp import RespConnection
from tests.support.waiting import wait_until

DIMENSIONS = 8
StoreFactory = Callable[..., CacheStore]


def vector(*values: float) -> np.ndarray:
    v = np.zeros(DIMENSIONS, dtype=np.float32)
    v[: len(values)] = values
    return (v / np.linalg.norm(v)).astype(np.float32)


def entry(
    key: str,
    namespace: str = "ns",
    *,
    size: int = 100,
    scope: str = "team:a",
    ttl: float = 60,
    subjects: tuple[str, ...] = ("team:a", "key:k1"),
) -> Entry:
    return Entry(
        namespace=namespace,
        key=key,
        scope=scope,
        text=f"question {key}",
        response=b"x" * size,
        stream=False,
        version="1",
        created=time.time(),
        ttl=ttl,
        subjects=subjects,
    )


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[StoreFactory]:
    """Builds stores of the parametrised kind (Redis: flushed first, closed after)."""
    made: list[CacheStore] = []
    if request.param == "redis":
        admin = RespConnection(redis_url)
        await admin.call("FLUSHDB")
        await admin.close()

    def make(
        *,
        ttl: float = 60,
        max_bytes: int = 10**8,
        max_entries: int = 10**6,
        per_namespace: int = 10**5,
    ) -> CacheStore:
        store: CacheStore
        if request.param == "memory":
            store = MemoryCacheStore(
                dimensions=DIMENSIONS,
                max_bytes=max_bytes,
                max_entries_per_namespace=per_namespace,
            )
        else:
            store = RedisCacheStore(
                redis_url,
                dimensions=DIMENSIONS,
                longest_ttl_seconds=ttl,
                max_bytes=max_bytes,
                max_entries=max_entries,
                max_entries_per_namespace=per_namespace,
            )
        made.append(store)
        return store

    yield make
    for store in made:
        await store.close()


async def test_exact_reads_and_nearest_entries(make_store: StoreFactory) -> None:
    store = make_store()
    await store.start()
    await store.put(entry("k1"), vector(1, 0))
    await store.put(entry("k2"), vector(0, 1))
    await store.put(entry("k3"), None)  # exact tier only
    found = await store.get("ns", "k1")
    assert found is not None and found.response == b"x" * 100 and found.scope == "team:a"
    assert (await store.get("ns", "k3")) is not None
    assert await store.get("ns", "nope") is None
    nearest = await store.similar("ns", vector(1, 0.1), 2)
    assert [k for k, _ in nearest] == ["k1", "k2"]
    assert nearest[0][1] == pytest.approx(0.995, abs=0.01)
    # Namespaces never see each other's entries.
    assert await store.similar("other", vector(1, 0), 2) == []
    assert await store.get("other", "k1") is None


async def test_entries_expire(make_store: StoreFactory) -> None:
    store = make_store(ttl=0.3)
    await store.start()
    await store.put(entry("k1", ttl=0.3), vector(1, 0))
    assert await store.get("ns", "k1") is not None
    await asyncio.sleep(0.4)
    assert await store.get("ns", "k1") is None


async def test_the_least_recently_used_go_first_under_the_memory_bound(
    make_store: StoreFactory,
) -> None:
    # Each entry costs about 10 kB in either store: 50 fit in 512 kB, 100 do not.
    store = make_store(max_bytes=512 * 1024)
    await store.start()
    await store.put(entry("keep", size=10_000), vector(1, 0))
    for i in range(100):
        await store.put(entry(f"k{i}", size=10_000), vector(0, 1, i))
        assert await store.get("ns", "keep") is not None  # used all along: never the coldest
    assert await store.get("ns", "k0") is None  # the coldest went
    assert await store.get("ns", "k99") is not None
    kept = [i for i in range(100) if await store.get("ns", f"k{i}") is not None]
    assert 20 <= len(kept) < 60


async def test_each_namespace_is_bounded(make_store: StoreFactory) -> None:
    store = make_store(per_namespace=10, max_entries=10)
    await store.start()
    for i in range(30):
        await store.put(entry(f"k{i}"), vector(1, i))
    found = await store.similar("ns", vector(1, 29), 32)
    assert 0 < len(found) <= 10
    assert await store.get("ns", "k0") is None


async def test_a_subject_is_forgotten_and_only_that_subject(make_store: StoreFactory) -> None:
    store = make_store()
    await store.start()
    ann = ("team:a", "key:k1", "user:ann")
    bob = ("team:a", "key:k1", "user:bob")
    await store.put(entry("a1", subjects=ann), vector(1, 0))
    await store.put(entry("a2", namespace="other", subjects=ann), None)
    await store.put(entry("b1", subjects=bob), vector(0, 1))
    assert await store.forget("user:ann", dry_run=True) == 2
    assert await store.get("ns", "a1") is not None  # counted, kept
    assert await store.forget("user:ann") == 2
    assert await store.get("ns", "a1") is None
    assert await store.get("other", "a2") is None
    assert [k for k, _ in await store.similar("ns", vector(1, 0), 2)] in (["b1"], ["a1", "b1"])
    assert await store.get("ns", "b1") is not None
    assert await store.forget("user:ann") == 0
    assert await store.forget("key:k1") == 1  # bob's, through the key
    assert await store.get("ns", "b1") is None


async def test_the_memory_store_accounts_its_bytes() -> None:
    store = MemoryCacheStore(
        dimensions=DIMENSIONS, max_bytes=200_000, max_entries_per_namespace=10**6
    )
    for i in range(1000):
        await store.put(entry(f"k{i}", namespace=f"ns{i % 7}", size=1000), vector(1, i))
        assert store.bytes <= 200_000
    assert 100 < len(store) < 200
    oversized = entry("big", size=300_000)
    await store.put(oversized, vector(1))
    assert await store.get("ns", "big") is None


async def test_a_vector_written_through_one_redis_store_is_found_by_another(
    redis_url: str,
) -> None:
    admin = RespConnection(redis_url)
    await admin.call("FLUSHDB")
    await admin.close()
    settings: dict[str, Any] = {
        "dimensions": DIMENSIONS,
        "longest_ttl_seconds": 60,
        "max_bytes": 10**8,
    }
    writer = RedisCacheStore(
        redis_url, max_entries=1000, max_entries_per_namespace=1000, **settings
    )
    await writer.put(entry("early"), vector(0, 0, 1))
    reader = RedisCacheStore(
        redis_url, max_entries=1000, max_entries_per_namespace=1000, **settings
    )
    await writer.start()
    await reader.start()
    try:
        await asyncio.wait_for(reader.synced.wait(), 2)
        assert [k for k, _ in await reader.similar("ns", vector(0, 0, 1), 1)] == ["early"]
        started = time.monotonic()
        await writer.put(entry("late"), vector(1, 0))
        while not await reader.similar("ns", vector(1, 0), 1) or (
            (await reader.similar("ns", vector(1, 0), 1))[0][0] != "late"
        ):
            assert time.monotonic() - started < 1.0, "not seen by the other replica within 1 s"
            await asyncio.sleep(0.01)
        found = await reader.get("ns", "late")
        assert found is not None and found.text == "question late"
    finally:
        await writer.close()
        await reader.close()


async def test_an_erasure_through_one_redis_store_holds_for_every_replica(
    redis_url: str,
) -> None:
    admin = RespConnection(redis_url)
    await admin.call("FLUSHDB")
    settings: dict[str, Any] = {
        "dimensions": DIMENSIONS,
        "longest_ttl_seconds": 60,
        "max_bytes": 10**8,
    }
    one = RedisCacheStore(redis_url, max_entries=1000, max_entries_per_namespace=1000, **settings)
    two = RedisCacheStore(redis_url, max_entries=1000, max_entries_per_namespace=1000, **settings)
    await one.start()
    await two.start()
    try:
        await one.put(entry("ann", subjects=("team:a", "user:ann")), vector(1, 0))
        await one.put(entry("bob", subjects=("team:a", "user:bob")), vector(0, 1))
        await wait_until(lambda: two.similar("ns", vector(1, 0), 2), lambda r: len(r) == 2)
        assert await two.forget("user:ann") == 1
        assert await one.get("ns", "ann") is None  # at once, on the other replica too
        assert await one.get("ns", "bob") is not None
        # The vector leaves the feed and every replica's mirror.
        await wait_until(
            lambda: one.similar("ns", vector(1, 0), 2), lambda r: [k for k, _ in r] == ["bob"]
        )
        feed = await admin.call("XRANGE", "llmops:cache:feed", "-", "+")
        assert not any(b"ann" in value for _, fields in feed if b"v" in fields for value in fields)
        late = RedisCacheStore(
            redis_url, max_entries=1000, max_entries_per_namespace=1000, **settings
        )
        await late.start()
        await asyncio.wait_for(late.synced.wait(), 5)
        assert [k for k, _ in await late.similar("ns", vector(1, 0), 2)] == ["bob"]
        await late.close()
    finally:
        await one.close()
        await two.close()
        await admin.close()
