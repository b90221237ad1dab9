"""Two gateway replicas sharing the cache through Redis, as in production."""

from __future__ import annotations

import time

import openai

from tests.gateway.cache.conftest import GatewayFactory
from tests.support.gateways import RunningGateway
from tests.support.http import new_key
from tests.support.services import redis_server


def ask(gateway: RunningGateway, key: str, text: str) -> tuple[str, str]:
    with openai.OpenAI(base_url=gateway.v1, api_key=key, max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="echo", messages=[{"role": "user", "content": text}], temperature=0
        )
        content = raw.parse().choices[0].message.content or ""
    return raw.headers["x-llmops-cache"], content


def first_hit_within(gateway: RunningGateway, key: str, text: str, seconds: float) -> str:
    started = time.monotonic()
    while True:
        result, content = ask(gateway, key, text)
        if result == "hit":
            return content
        assert time.monotonic() - started < seconds, f"no hit on the other replica in {seconds}s"
        time.sleep(0.02)


def test_an_answer_stored_through_one_replica_hits_on_the_other(
    cached_gateway: GatewayFactory,
) -> None:
    # A Redis of its own: nothing another test stored can answer here.
    with (
        redis_server() as url,
        cached_gateway(redis_url=url, store="redis") as one,
        cached_gateway(redis_url=url, store="redis") as two,
    ):
        key = new_key(one.url, "team-a")  # both replicas share the key store
        question = "What is the boiling point of water at sea level?"
        assert ask(one, key, question) == ("miss", question)
        # The exact tier and the semantic tier both answer on the other replica within 1 s.
        assert first_hit_within(two, key, question, 1.0) == question
        reworded = "At sea level, what is the boiling point of water?"
        assert first_hit_within(two, key, reworded, 1.0) == question
        # Stored on the second, found on the first.
        other = "How many days are there in a leap year?"
        assert ask(two, key, other) == ("miss", other)
        assert first_hit_within(one, key, "In a leap year, how many days are there?", 1.0) == other
        # Another team reaches neither entry through either replica.
        stranger = new_key(two.url, "team-b")
        assert ask(one, stranger, question)[0] == "miss"
        assert ask(two, stranger, other)[0] == "miss"


def test_requests_are_answered_while_the_cache_store_is_down(
    cached_gateway: GatewayFactory,
) -> None:
    redis = redis_server()
    url = redis.__enter__()
    stopped = False
    try:
        with cached_gateway(redis_url=url, store="redis", limits={"fail_open": True}) as gateway:
            key = new_key(gateway.url, "team-a")
            question = "What is the boiling point of water at sea level?"
            assert ask(gateway, key, question) == ("miss", question)
            assert first_hit_within(gateway, key, question, 1.0) == question
            redis.__exit__(None, None, None)
            stopped = True
            # The cache stands aside: the replica answers, nothing fails.
            for text in (question, "How many days are there in a leap year?"):
                assert ask(gateway, key, text) == ("bypass", text)
    finally:
        if not stopped:
            redis.__exit__(None, None, None)
