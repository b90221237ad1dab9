"""A person forgotten through one gateway replica is forgotten by all: their questions no
longer hit the shared cache and their request-log rows are gone; other people's stay."""

from __future__ import annotations

import asyncio
import time

from gateway.resp import RespConnection
from tests.gateway.cache.conftest import GatewayFactory
from tests.gateway.cache.test_cache_gateway import ask, eventually_hit
from tests.requestlog.test_gateway_log import wait_rows
from tests.requestlog.test_privacy import admin
from tests.support.http import new_key

ANN = "What is the delivery time for parcels to Lyon?"
BOB = "How do I change the billing address on my account?"


def flush(redis_url: str) -> None:
    async def go() -> None:
        redis = RespConnection(redis_url)
        await redis.call("FLUSHDB")
        await redis.close()

    asyncio.run(go())


def test_a_forgotten_user_leaves_the_shared_cache_and_the_log_on_every_replica(
    cached_gateway: GatewayFactory, redis_url: str, sqlite_url: str
) -> None:
    flush(redis_url)
    log = {"flush_seconds": 0.05}
    with (
        cached_gateway(redis_url, store="redis", request_log=log) as one,
        cached_gateway(redis_url, store="redis", request_log=log) as two,
    ):
        key = new_key(one.url, "team-a")
        asked = {"ann": 0, "bob": 0}
        for text, user in ((ANN, "ann"), (BOB, "bob")):
            assert ask(one, key, text, user=user).headers["x-llmops-cache"] == "miss"
            asked[user] += 1
            # Through the other replica, answered from the shared cache (once stored).
            deadline = time.monotonic() + 10
            while ask(two, key, text, user=user).headers["x-llmops-cache"] != "hit":
                assert time.monotonic() < deadline, "never stored"
                asked[user] += 1
            asked[user] += 1
        assert len(wait_rows(sqlite_url, sum(asked.values()))) == sum(asked.values())

        status, erased = admin(two, "privacy/forget", {"user": "ann"})
        assert status == 200, erased
        assert erased["cache_entries"] == 1
        assert erased["request_log_rows"] == asked["ann"]

        # At once, on the replica that did not erase: Ann's question is a miss (asked by
        # someone else, so as not to store it again under her name); Bob's still hits.
        assert ask(one, key, ANN, user="carol").headers["x-llmops-cache"] == "miss"
        assert ask(one, key, BOB, user="dave").headers["x-llmops-cache"] == "hit"
        assert ask(two, key, BOB, user="dave").headers["x-llmops-cache"] == "hit"
        rows = wait_rows(sqlite_url, asked["bob"] + 3)
        assert len(rows) == asked["bob"] + 3
        assert [r.prompt_text for r in rows].count(ANN) == 1  # Carol's
        status, exported = admin(one, "privacy/export", {"user": "ann"})
        assert (status, exported["data"]) == (200, [])
        status, exported = admin(one, "privacy/export", {"user": "bob"})
        assert [r["prompt_text"] for r in exported["data"]] == [BOB] * asked["bob"]


def test_a_team_whose_retention_is_zero_is_never_cached(cached_gateway: GatewayFactory) -> None:
    with cached_gateway(ttl_seconds_by_team={"team-b": 0}) as gateway:
        kept, unkept = new_key(gateway.url, "team-a"), new_key(gateway.url, "team-b")
        assert ask(gateway, unkept, BOB).headers["x-llmops-cache"] == "miss"
        assert ask(gateway, kept, BOB).headers["x-llmops-cache"] == "miss"
        assert eventually_hit(gateway, kept, BOB).headers["x-llmops-cache"] == "hit"
        # Team A's answer, stored after team B's would have been, is there: B's never was.
        assert ask(gateway, unkept, BOB).headers["x-llmops-cache"] == "miss"
