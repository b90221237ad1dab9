"""The error bound in a running gateway: near-matches are held and checked against the
replica's answers until the evidence allows serving them; a replica that disagrees turns
the semantic tier off; the estimate is exported."""

from __future__ import annotations

import time

from tests.gateway.cache.conftest import GatewayFactory
from tests.support.gateways import RunningGateway
from tests.support.http import chat, metric_values, new_key

TASKS = [
    "reverse a list", "sort a dictionary by value", "read a CSV file", "merge two dictionaries",
    "remove duplicates from a list", "flatten a nested list", "count words in a string",
    "parse a JSON string", "copy a file", "check if a file exists", "get the current date",
    "split a string by commas", "convert a string to lowercase", "find the length of a list",
    "append to a file", "round a float", "generate a random number", "join a list of strings",
]  # fmt: skip
BOUND = {"max_wrong_rate": 0.3, "bound_min_samples": 10, "audit_share": 0.5}


def ask(gateway: RunningGateway, key: str, text: str) -> str:
    reply = chat(
        gateway.url,
        key,
        {"model": "echo", "messages": [{"role": "user", "content": text}], "temperature": 0},
    )
    assert reply.status == 200, reply.body
    return reply.headers["x-llmops-cache"]


def checks(gateway: RunningGateway, outcome: str) -> float:
    values = metric_values(gateway.url, "llmops_cache_checks_total")
    return sum(v for k, v in values.items() if f'outcome="{outcome}"' in k)


def wait_for_checks(gateway: RunningGateway, outcome: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while checks(gateway, outcome) < count:
        assert time.monotonic() < deadline, f"{count} {outcome} checks never came"
        time.sleep(0.05)


def state(gateway: RunningGateway) -> str:
    values = metric_values(gateway.url, "llmops_cache_semantic_state")
    (on,) = [
        k.split('state="')[1].rstrip('"}') for k, v in values.items() if 'namespace="*"' in k and v
    ]
    return on


def test_near_matches_are_held_until_the_replica_agrees_often_enough(
    cached_gateway: GatewayFactory,
) -> None:
    with cached_gateway(**BOUND) as gateway:
        key = new_key(gateway.url, "team-a")
        for number, task in enumerate(TASKS[:9], start=1):
            assert ask(gateway, key, f"How do I {task} in Python?") == "miss"
            # Verified, but not served while learning: the echo replica answers.
            assert ask(gateway, key, f"In Python, how do I {task}?") == "miss"
            wait_for_checks(gateway, "agree", number)
            assert state(gateway) == "learning"
        # About bound_min_samples agreeing checks later (older ones fade a little) it serves.
        for number, task in enumerate(TASKS[9:12], start=10):
            assert ask(gateway, key, f"How do I {task} in Python?") == "miss"
            assert ask(gateway, key, f"In Python, how do I {task}?") == "miss"
            wait_for_checks(gateway, "agree", number)
            if state(gateway) == "on":
                break
        assert state(gateway) == "on"
        bound = metric_values(gateway.url, "llmops_cache_wrong_rate_bound")
        assert bound['llmops_cache_wrong_rate_bound{model="echo",namespace="*"}'] <= 0.3
        assert ask(gateway, key, f"How do I {TASKS[12]} in Python?") == "miss"
        assert ask(gateway, key, f"In Python, how do I {TASKS[12]}?") == "hit"


def test_a_replica_that_disagrees_turns_the_semantic_tier_off(
    cached_gateway: GatewayFactory,
) -> None:
    # Without the verifier, near-matches in other languages are candidates; the echo
    # replica answers each with its own question, far from the cached one.
    with cached_gateway(verify=False, similarity_threshold=0.5, **BOUND) as gateway:
        key = new_key(gateway.url, "team-a")
        for number, task in enumerate(TASKS[:12], start=1):
            assert ask(gateway, key, f"How do I {task} in Python?") == "miss"
            assert ask(gateway, key, f"How do I {task} in Rust, step by step?") == "miss"
            wait_for_checks(gateway, "disagree", number)
        assert state(gateway) == "off"
        rate = metric_values(gateway.url, "llmops_cache_wrong_rate")
        assert rate['llmops_cache_wrong_rate{model="echo",namespace="*"}'] > 0.5
        # Even a match the replica would agree with is not served now.
        assert ask(gateway, key, f"How do I {TASKS[12]} in Python?") == "miss"
        assert ask(gateway, key, f"In Python, how do I {TASKS[12]}?") == "miss"
