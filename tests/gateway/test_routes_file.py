"""Routes from the operator's routes file: merged over the configured models, reloaded
while the gateway runs (no restart, no request dropped), last good routes kept when the
file turns invalid."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.routing import routesfile
from gateway.settings import ModelRoute
from gateway.upstream import replica_id
from llmops.serving.echo import EchoServer
from tests.support.gateways import gateway_in_thread, settings_for
from tests.support.http import chat, metric_values, new_key

HELLO = {"model": "bot", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def replicas() -> Iterator[list[EchoServer]]:
    servers = [EchoServer(model="bot").start_in_thread() for _ in range(2)]
    yield servers
    for server in servers:
        server.stop_thread()


def publish(path: Path, models: list[dict[str, Any]] | str) -> None:
    """Replace the file in one step, as the kubelet swaps a ConfigMap volume."""
    text = models if isinstance(models, str) else yaml.safe_dump({"models": models})
    staged = path.with_suffix(".tmp")
    staged.write_text(text)
    staged.replace(path)


def route(url: str, version: str) -> dict[str, Any]:
    return {"name": "bot", "versions": [{"version": version, "weight": 1, "upstreams": [url]}]}


def wait_for(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_a_route_change_takes_effect_without_restart_or_dropping_requests(
    replicas: list[EchoServer], sqlite_url: str, tmp_path: Path
) -> None:
    old, new = replicas
    old.behaviour.delay_seconds = 1.5  # requests still in flight when the routes change
    old.behaviour.model_version = "1"
    new.behaviour.model_version = "2"
    routes = tmp_path / "routes.yaml"
    publish(routes, [route(old.url, "1")])
    settings = settings_for(
        sqlite_url, {"static": [new.url]}, routes_file=str(routes), routes_poll_seconds=0.1
    )
    with gateway_in_thread(settings) as gw:
        key = new_key(gw.url, "t")
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            in_flight = [pool.submit(chat, gw.url, key, HELLO) for _ in range(6)]
            time.sleep(0.3)  # they have reached the old replica
            publish(routes, [route(new.url, "2")])
            moved = wait_for(
                lambda: chat(gw.url, key, HELLO).headers.get("x-llmops-model-version") == "2"
            )
            assert moved, "the new route never took effect"
            replies = [f.result() for f in in_flight]
        assert [r.status for r in replies] == [200] * 6
        assert {r.headers["x-llmops-upstream"] for r in replies} == {replica_id(old.url)}
        # The configured model stays beside the file's.
        assert chat(gw.url, key, {**HELLO, "model": "static"}).status == 200

        # An invalid version of the file: logged, counted, last good routes kept.
        publish(routes, "models: [{name: bot, versions: []}]")
        errors = wait_for(
            lambda: metric_values(gw.url, "llmops_gateway_routes_reloads_total").get(
                'llmops_gateway_routes_reloads_total{result="error"}'
            )
        )
        assert errors == 1.0
        time.sleep(0.3)  # several polls: reported once
        assert (
            metric_values(gw.url, "llmops_gateway_routes_reloads_total")[
                'llmops_gateway_routes_reloads_total{result="error"}'
            ]
            == 1.0
        )
        reply = chat(gw.url, key, HELLO)
        assert reply.status == 200 and reply.headers["x-llmops-model-version"] == "2"
        # A tokenizer that cannot be loaded does not hold the routes back: the new
        # version serves, its tokens estimated.
        new.behaviour.model_version = "3"
        publish(routes, [{**route(new.url, "3"), "tokenizer": str(tmp_path / "missing.json")}])
        moved = wait_for(
            lambda: chat(gw.url, key, HELLO).headers.get("x-llmops-model-version") == "3"
        )
        assert moved, "a route with a missing tokenizer never took effect"
        reloads = metric_values(gw.url, "llmops_gateway_routes_reloads_total")
        assert reloads['llmops_gateway_routes_reloads_total{result="error"}'] == 1.0

        # The model leaves the file: it is gone (404 with OpenAI's body), the static one stays.
        publish(routes, [])
        gone = wait_for(lambda: chat(gw.url, key, HELLO).status == 404)
        assert gone
        assert chat(gw.url, key, HELLO).json()["error"]["code"] == "model_not_found"


def test_the_file_wins_over_a_configured_model_and_fallbacks_are_checked() -> None:
    configured = [ModelRoute.model_validate({"name": "bot", "upstreams": ["http://a:1/v1"]})]
    from_file = routesfile.parse(yaml.safe_dump({"models": [route("http://b:1/v1", "2")]}), "f")
    merged = routesfile.merge(configured, from_file)
    assert [m.upstream_urls() for m in merged] == [["http://b:1/v1"]]
    broken = routesfile.parse(
        "models: [{name: x, upstreams: ['http://c:1/v1'], fallbacks: [nope]}]", "f"
    )
    with pytest.raises(
        routesfile.RoutesFileError, match="fallbacks must name other configured models"
    ):
        routesfile.merge(configured, broken)
    with pytest.raises(
        routesfile.RoutesFileError, match=r"f is not a valid routes file: models\.0\.versions"
    ):
        routesfile.parse("models: [{name: x, versions: [{version: '1', upstreams: []}]}]", "f")
