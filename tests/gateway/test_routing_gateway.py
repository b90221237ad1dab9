"""Routing through a running gateway: replicas failing and coming back, canaries,
sessions and fallbacks, against real echo replicas."""

from __future__ import annotations

import collections
import concurrent.futures
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.upstream import replica_id
from llmops.serving.echo import EchoServer
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import Reply, call, chat, metric_values, new_key
from tests.support.services import free_port

HELLO = {"model": "m", "messages": [{"role": "user", "content": "one two"}]}


@pytest.fixture
def replicas() -> Iterator[list[EchoServer]]:
    servers = [EchoServer(model="m").start_in_thread() for _ in range(3)]
    yield servers
    for server in servers:
        server.stop_thread()


def start(sqlite_url: str, models: list[dict[str, Any]], **routing: Any) -> Any:
    settings = settings_for(sqlite_url, {})
    data = settings.model_dump(mode="json")
    data["models"] = models
    data["routing"] = routing
    return gateway_in_thread(type(settings).model_validate(data))


def circuit_open(gateway: RunningGateway, url: str) -> float:
    return metric_values(gateway.url, "llmops_upstream_circuit_open").get(
        f'llmops_upstream_circuit_open{{upstream="{url}"}}', -1
    )


def load(gateway: RunningGateway, key: str, n: int, body: dict[str, Any] = HELLO) -> list[Reply]:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: chat(gateway.url, key, body), range(n)))


def test_a_replica_killed_under_load_fails_no_request_and_returns_when_back(
    replicas: list[EchoServer], sqlite_url: str
) -> None:
    urls = [r.url for r in replicas]
    routing = {
        "circuit": {"failure_threshold": 2, "open_seconds": 0.5},
        "health": {"interval_seconds": 0.2, "timeout_seconds": 0.5},
    }
    with start(sqlite_url, [{"name": "m", "upstreams": urls}], **routing) as gw:
        key = new_key(gw.url, "t")
        assert {r.status for r in load(gw, key, 30)} == {200}
        victim = replicas[1]
        port = victim.port
        victim.stop_thread()
        replies = load(gw, key, 120)
        assert collections.Counter(r.status for r in replies) == {200: 120}
        assert {r.headers["x-llmops-upstream"] for r in replies} == {
            replica_id(urls[0]),
            replica_id(urls[2]),
        }
        assert circuit_open(gw, urls[1]) == 1

        replicas[1] = EchoServer(model="m", port=port).start_in_thread()  # back on its port
        deadline = time.monotonic() + 10
        while replicas[1].record.requests.maxlen and not replicas[1].record.requests:
            assert time.monotonic() < deadline, "traffic never returned to the restarted replica"
            load(gw, key, 8)
        assert circuit_open(gw, urls[1]) == 0


def test_5xx_answers_are_retried_on_another_replica(
    replicas: list[EchoServer], sqlite_url: str
) -> None:
    replicas[0].behaviour.status = 500
    urls = [r.url for r in replicas[:2]]
    with start(
        sqlite_url, [{"name": "m", "upstreams": urls}], health={"interval_seconds": 0}
    ) as gw:
        key = new_key(gw.url, "t")
        replies = load(gw, key, 20)
        assert {r.status for r in replies} == {200}
        assert {r.headers["x-llmops-upstream"] for r in replies} == {replica_id(urls[1])}
        outcomes = metric_values(gw.url, "llmops_upstream_requests_total")
        errors = sum(v for k, v in outcomes.items() if 'outcome="error"' in k)
        # Until the circuit opened: five failures, plus those already in flight (8 clients).
        assert 1 <= errors <= 5 + 7

        replicas[1].behaviour.status = 503  # every replica failing: the client sees a 502
        replicas[0].behaviour.status = 503
        time.sleep(5.5)  # the first replica's circuit half-opens
        reply = chat(gw.url, key, HELLO)
        assert reply.status == 502 and reply.json()["error"]["code"] == "upstream_error"


def test_a_canary_gets_its_share_and_a_session_stays_on_its_side(
    replicas: list[EchoServer], sqlite_url: str
) -> None:
    replicas[0].behaviour.model_version = "1"
    replicas[1].behaviour.model_version = "2"
    model = {
        "name": "m",
        "versions": [
            {"version": "1", "weight": 80, "upstreams": [replicas[0].url]},
            {"version": "2", "weight": 20, "upstreams": [replicas[1].url]},
        ],
    }
    with start(sqlite_url, [model], health={"interval_seconds": 0}) as gw:
        key = new_key(gw.url, "t")
        versions = collections.Counter(
            r.headers["x-llmops-model-version"] for r in load(gw, key, 400)
        )
        assert 0.12 < versions["2"] / 400 < 0.28
        for session in ("alice", "bob", "carol"):
            seen = {
                call(
                    "POST",
                    f"{gw.v1}/chat/completions",
                    body=HELLO,
                    headers={"authorization": f"Bearer {key}", "x-session-id": session},
                ).headers["x-llmops-model-version"]
                for _ in range(10)
            }
            assert len(seen) == 1


def test_session_and_prefix_affinity_keep_requests_on_one_replica(
    replicas: list[EchoServer], sqlite_url: str
) -> None:
    urls = [r.url for r in replicas]
    models: list[dict[str, Any]] = [
        {"name": "m", "upstreams": urls, "strategy": "session"},
        {"name": "p", "upstreams": urls, "strategy": "prefix", "prefix_tokens": 8},
    ]
    with start(sqlite_url, models, health={"interval_seconds": 0}) as gw:
        key = new_key(gw.url, "t")
        for user in ("u1", "u2", "u3", "u4"):
            upstreams = {
                chat(gw.url, key, {**HELLO, "user": user}).headers["x-llmops-upstream"]
                for _ in range(6)
            }
            assert len(upstreams) == 1
        shared = "You are a careful assistant for the billing team. "
        upstreams = {
            chat(
                gw.url,
                key,
                {
                    "model": "p",
                    "messages": [
                        {"role": "system", "content": shared},
                        {"role": "user", "content": f"question {i}"},
                    ],
                },
            ).headers["x-llmops-upstream"]
            for i in range(8)
        }
        assert len(upstreams) == 1  # one shared prefix: one replica (its KV cache is warm)


def test_a_model_without_replicas_falls_back(replicas: list[EchoServer], sqlite_url: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    models: list[dict[str, Any]] = [
        {"name": "m", "upstreams": [dead], "fallbacks": ["backup"]},
        {"name": "backup", "upstreams": [replicas[2].url]},
        {"name": "lonely", "upstreams": [dead]},
    ]
    with start(sqlite_url, models, health={"interval_seconds": 0}) as gw:
        key = new_key(gw.url, "t")
        reply = chat(gw.url, key, HELLO)
        assert reply.status == 200
        assert reply.headers["x-llmops-model"] == "backup"
        assert reply.json()["model"] == "backup"
        limited = new_key(gw.url, "t", models=["m"])  # may not use the fallback
        assert chat(gw.url, limited, HELLO).status == 502
        lonely = chat(gw.url, key, {**HELLO, "model": "lonely"})
        assert lonely.status == 502 and lonely.json()["error"]["code"] == "upstream_unavailable"


def test_fallbacks_are_reached_when_every_replica_of_the_model_fails(
    replicas: list[EchoServer], sqlite_url: str
) -> None:
    dead = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(3)]
    models: list[dict[str, Any]] = [
        {"name": "m", "upstreams": dead, "fallbacks": ["backup"]},
        {"name": "backup", "upstreams": [replicas[0].url]},
    ]
    # Three tries per model: all of m's go to its dead replicas, and backup gets its own.
    routing = {"retries": {"max_attempts": 3}, "health": {"interval_seconds": 0}}
    with start(sqlite_url, models, **routing) as gw:
        reply = chat(gw.url, new_key(gw.url, "t"), HELLO)
        assert reply.status == 200, reply.body
        assert reply.headers["x-llmops-model"] == "backup"
