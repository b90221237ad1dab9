"""The gateway through its dependencies' faults: Redis gone (with and without
``fail_open``), the database refusing or blackholed; readiness reports them without
leaving the Service, and known keys keep working through a database outage."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gateway import db
from gateway.app import _services as services_of
from gateway.keys import material
from gateway.metrics import GatewayMetrics
from gateway.settings import DEFAULT_KEY_HASH_SECRET
from gateway.upstream import replica_id
from llmops.serving.echo import EchoServer
from tests.support.gateways import gateway_in_thread, settings_for
from tests.support.http import call, chat, metric_values, new_key
from tests.support.netfault import Link, relay, relayed
from tests.support.services import free_port, redis_server

ASK = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}


def counter(gateway_url: str, name: str) -> float:
    """An unlabelled counter's value at ``gateway_url``."""
    for line in call("GET", f"{gateway_url}/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.rpartition(" ")[2])
    raise AssertionError(f"{name} not exported")


def test_a_dependency_down_leaves_the_pod_ready(echo: EchoServer, sqlite_url: str) -> None:
    for fail_open in (True, False):
        redis = redis_server()
        redis_url = redis.__enter__()
        settings = settings_for(
            sqlite_url,
            {"echo": [echo.url]},
            redis_url=redis_url,
            limits={"fail_open": fail_open, "store_timeout_seconds": 0.5},
        )
        with gateway_in_thread(settings) as gateway:
            key = new_key(gateway.url, f"team-{fail_open}", rpm=1000)
            assert chat(gateway.url, key, ASK).status == 200
            redis.__exit__(None, None, None)  # Redis stops while the gateway runs
            reply = chat(gateway.url, key, ASK)
            if fail_open:
                assert reply.status == 200, reply.body
                assert counter(gateway.url, "llmops_gateway_limits_bypassed_total") >= 1
            else:
                assert reply.status == 503, reply.body
                assert reply.json()["error"]["code"]
            ready = call("GET", f"{gateway.url}/readyz")
            assert ready.status == 200, ready.body
            body = ready.json()
            assert body["ready"] is True and body["degraded"] is True
            assert body["checks"]["limits"].startswith("degraded")
            assert call("GET", f"{gateway.url}/healthz").status == 200


def test_known_keys_are_served_through_a_database_outage(
    echo: EchoServer, postgres_url: str
) -> None:
    db.migrate(postgres_url)
    with relayed(postgres_url) as (through, link):
        settings = settings_for(
            through,
            {"echo": [echo.url]},
            key_cache_seconds=0,
            key_stale_seconds=600,
            database_timeout_seconds=1,
            migrate_on_start=False,
            request_log={"enabled": False},
        )
        with gateway_in_thread(settings) as gateway:
            known, unseen = new_key(gateway.url, "team-a"), new_key(gateway.url, "team-b")
            assert chat(gateway.url, known, ASK).status == 200
            for fault in (Link.BLACKHOLE, Link.REFUSE):
                link.set(fault)
                started = time.monotonic()
                assert chat(gateway.url, known, ASK).status == 200, fault
                refused = chat(gateway.url, unseen, ASK)
                assert refused.status == 503 and refused.json()["error"]["code"] == (
                    "key_store_down"
                ), fault
                assert time.monotonic() - started < 10, f"{fault}: not failed fast"
                ready = call("GET", f"{gateway.url}/readyz").json()
                assert ready["ready"] is True and ready["checks"]["database"] != "ok"
                link.set(Link.UP)
            assert counter(gateway.url, "llmops_gateway_keys_served_stale_total") >= 2
            # Back up: the key store answers again, for every key.
            assert chat(gateway.url, unseen, ASK).status == 200


def test_a_hung_replica_is_taken_out_and_its_requests_answered_elsewhere(
    echo: EchoServer, sqlite_url: str
) -> None:
    with relay("127.0.0.1", urlsplit(echo.url).port or 80) as link:
        hung = f"http://127.0.0.1:{link.port}/v1"
        route = {"name": "echo", "upstreams": [echo.url, hung], "strategy": "round_robin"}
        settings = settings_for(sqlite_url, {}, models=[route], request_log={"enabled": False})
        with gateway_in_thread(settings) as gateway:
            key = new_key(gateway.url, "team-a")
            assert all(chat(gateway.url, key, ASK).status == 200 for _ in range(2))
            link.set(Link.BLACKHOLE)  # connections taken, nothing answered
            with ThreadPoolExecutor(6) as pool:  # half of them sent to the hung replica
                replies = list(pool.map(lambda _: chat(gateway.url, key, ASK), range(6)))
            assert [r.status for r in replies] == [200] * 6  # not one waited for a timeout
            healthy = metric_values(gateway.url, "llmops_upstream_healthy")
            assert healthy == {
                f'llmops_upstream_healthy{{upstream="{echo.url}"}}': 1.0,
                f'llmops_upstream_healthy{{upstream="{hung}"}}': 0.0,
            }
            link.set(Link.UP)
            deadline = time.monotonic() + 30
            while (
                metric_values(gateway.url, "llmops_upstream_healthy")[
                    f'llmops_upstream_healthy{{upstream="{hung}"}}'
                ]
                == 0.0
            ):
                assert time.monotonic() < deadline, "the replica never came back"
                time.sleep(0.05)


def test_answers_and_errors_never_tell_internal_addresses(
    echo: EchoServer, sqlite_url: str
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    settings = settings_for(sqlite_url, {"echo": [echo.url], "gone": [dead]})
    with gateway_in_thread(settings) as gateway:
        key = new_key(gateway.url, "team-a")
        ok = chat(gateway.url, key, ASK)
        assert ok.headers["x-llmops-upstream"] == replica_id(echo.url)
        failed = chat(gateway.url, key, {**ASK, "model": "gone"})
        assert failed.status in (502, 503), failed.body
        assert b"127.0.0.1" not in failed.body and dead.encode() not in failed.body
    shown = settings.model_copy(update={"expose_upstreams": True})
    with gateway_in_thread(shown) as gateway:
        assert chat(gateway.url, key, ASK).headers["x-llmops-upstream"] == echo.url


def test_an_address_guessing_keys_is_refused_without_database_queries(
    echo: EchoServer, sqlite_url: str
) -> None:
    settings = settings_for(sqlite_url, {"echo": [echo.url]}, auth_failures_per_minute=5)
    with gateway_in_thread(settings) as gateway:
        key = new_key(gateway.url, "team-a")
        assert chat(gateway.url, key, ASK).status == 200  # known (and kept) before the attack
        statuses = [chat(gateway.url, material.generate(), ASK).status for _ in range(8)]
        assert statuses[:5] == [401] * 5
        assert set(statuses[5:]) == {429}
        refused = chat(gateway.url, material.generate(), ASK)
        assert refused.json()["error"]["code"] == "too_many_failed_authentications"
        assert refused.headers["retry-after"] == "60"
        assert chat(gateway.url, key, ASK).status == 200  # a key already known still works


async def test_the_public_default_secret_is_refused(echo: EchoServer, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url, {"echo": [echo.url]}).model_copy(
        update={"key_hash_secret": DEFAULT_KEY_HASH_SECRET}
    )
    with pytest.raises(RuntimeError, match="key_hash_secret is the public default"):
        async with services_of(settings, GatewayMetrics(), None):
            pass
    allowed = settings.model_copy(update={"allow_default_secret": True})
    async with services_of(allowed, GatewayMetrics(), None) as services:
        assert services.settings.allow_default_secret


def test_hosted_upstreams_get_their_credentials_never_shown(
    echo: EchoServer, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "hosted-key"
    key_file.write_text("sk-hosted-first\n")
    monkeypatch.setenv("OTHER_HOSTED_KEY", "sk-other")
    settings = settings_for(
        sqlite_url,
        {"echo": [echo.url]},
        upstream_credentials=[
            {"url_prefix": "http://127.0.0.1", "api_key_env": "OTHER_HOSTED_KEY"},
            {"url_prefix": echo.url, "api_key_file": str(key_file)},
        ],
    )
    with gateway_in_thread(settings) as gateway:
        key = new_key(gateway.url, "team-a")
        reply = chat(gateway.url, key, ASK)
        assert reply.status == 200
        assert echo.record.authorizations[-1] == "Bearer sk-hosted-first"  # longest prefix
        assert b"sk-hosted" not in reply.body and "sk-hosted" not in str(reply.headers)
        key_file.write_text("sk-hosted-rotated\n")  # a rotated Secret, read again
        os.utime(key_file, (time.time() + 5, time.time() + 5))
        assert chat(gateway.url, key, ASK).status == 200
        assert echo.record.authorizations[-1] == "Bearer sk-hosted-rotated"
