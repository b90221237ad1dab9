"""Shadow traffic and A/B by team: a shadow version sees requests but never answers anyone,
costs the primary nothing when it is slow, hung or failing, and its answers are in the
request log beside the primary's; a pinned team gets its version."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from gateway.settings import GatewaySettings, ModelRoute
from llmops.cli.main import cli
from llmops.monitoring.reader import RequestLogReader, engine_for
from llmops.requestlog.table import RequestRecord
from llmops.serving.echo import EchoBehaviour, EchoServer
from tests.requestlog.test_gateway_log import EVER, ask, counter
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import call, new_key


@pytest.fixture
def shadow_replica() -> Iterator[EchoServer]:
    server = EchoServer(model="echo").start_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()


def shadowed(echo: EchoServer, shadow: EchoServer, sqlite_url: str, **shadow_settings: Any) -> Any:
    settings = settings_for(sqlite_url, {}, request_log={"flush_seconds": 0.05})
    route = {
        "name": "echo",
        "upstreams": [echo.url],
        "version": "v1",
        "shadow": {"version": "v2", "upstreams": [shadow.url], **shadow_settings},
    }
    return gateway_in_thread(_with_route(settings, route))


def _with_route(settings: GatewaySettings, route: dict[str, Any]) -> GatewaySettings:
    return settings.model_copy(update={"models": [ModelRoute.model_validate(route)]})


def wait_until(done: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.05)


def ask_as(gateway: RunningGateway, key: str, text: str, **extra: Any) -> Any:
    return call(
        "POST",
        f"{gateway.v1}/chat/completions",
        body=ask(text, **extra),
        headers={"authorization": f"Bearer {key}"},
        timeout=20,
    )


def every_row(database_url: str) -> list[RequestRecord]:
    """The answers users got and the shadow's, in the request log."""

    async def read() -> list[RequestRecord]:
        reader = RequestLogReader(engine_for(database_url))
        try:
            mine = await reader.window("echo", EVER)
            return mine + await reader.window("echo", EVER, shadow=True)
        finally:
            await reader.close()

    return asyncio.run(read())


def logged(database_url: str, n: int) -> list[RequestRecord]:
    wait_until(lambda: len(every_row(database_url)) >= n, timeout=20, what=f"{n} rows")
    return every_row(database_url)


def test_the_shadow_sees_the_request_and_the_client_only_the_primary(
    echo: EchoServer, shadow_replica: EchoServer, sqlite_url: str
) -> None:
    shadow_replica.behaviour = EchoBehaviour(model_version="v2")
    with shadowed(echo, shadow_replica, sqlite_url) as gateway:
        key = new_key(gateway.url, "t1")
        reply = ask_as(gateway, key, "mirror me", stream=True)
        assert reply.status == 200
        assert reply.headers["x-llmops-model-version"] == "v1"
        request_id = reply.headers["x-llmops-request-id"]
        found = logged(sqlite_url, 2)
        primary = [r for r in found if not r.shadow]
        shadow = [r for r in found if r.shadow]
        assert len(primary) == len(shadow) == 1
        assert primary[0].request_id == shadow[0].request_id == request_id
        assert (shadow[0].model_version, shadow[0].status) == ("v2", 200)
        assert shadow[0].prompt_text == "mirror me" and shadow[0].completion_text
        # The shadow got the conversation as one JSON request, never a stream.
        assert shadow_replica.record.requests[-1]["messages"][-1]["content"] == "mirror me"
        assert "stream" not in shadow_replica.record.requests[-1]
        # Only the primary's request counts.
        requests = counter(gateway.url, "llmops_gateway_requests_total")
        assert sum(requests.values()) == 1, requests
    # The comparison the canary can read: the same echo, the same answer.
    compared = CliRunner().invoke(
        cli, ["shadow", "compare", "--database-url", sqlite_url, "--model", "echo", "--json"]
    )
    assert compared.exit_code == 0, compared.output
    (figures,) = orjson.loads(compared.stdout)["shadows"]
    assert (figures["version"], figures["pairs"], figures["agreement"]) == ("v2", 1, 1.0)
    assert figures["shadow_error_rate"] == 0.0 and figures["latency_ratio"] > 0


def test_a_hung_shadow_costs_the_primary_nothing_and_is_bounded(
    echo: EchoServer, shadow_replica: EchoServer, sqlite_url: str
) -> None:
    shadow_replica.behaviour = EchoBehaviour(delay_seconds=60)
    with shadowed(echo, shadow_replica, sqlite_url, max_in_flight=1) as gateway:
        key = new_key(gateway.url, "t1")
        # Each answer comes back well before the shadow's (60 s away; the call's own
        # deadline is 20 s): the primary never waits for it.
        for i in range(3):
            assert ask_as(gateway, key, f"question {i}").status == 200
        wait_until(lambda: len(shadow_replica.record.requests) >= 1, timeout=20, what="the mirror")
        assert len(shadow_replica.record.requests) == 1  # one in flight at most: 2 skipped
        mirrored = counter(gateway.url, "llmops_shadow_requests_total")
        assert mirrored == {
            'llmops_shadow_requests_total{model="echo",outcome="skipped",version="v2"}': 2.0
        }, mirrored


def test_a_failing_shadow_is_recorded_and_the_client_never_knows(
    echo: EchoServer, shadow_replica: EchoServer, sqlite_url: str
) -> None:
    shadow_replica.behaviour = EchoBehaviour(status=500)
    with shadowed(echo, shadow_replica, sqlite_url) as gateway:
        key = new_key(gateway.url, "t1")
        reply = ask_as(gateway, key, "hello")
        assert reply.status == 200 and reply.json()["choices"][0]["message"]["content"]
        shadow = [r for r in logged(sqlite_url, 2) if r.shadow]
        assert [(r.status, r.completion_text) for r in shadow] == [(500, None)]
        wait_until(
            lambda: "error" in str(counter(gateway.url, "llmops_shadow_requests_total")),
            timeout=20,
            what="the shadow's error counted",
        )


def test_a_pinned_team_gets_its_version_and_the_others_the_split(
    echo: EchoServer, shadow_replica: EchoServer, sqlite_url: str
) -> None:
    echo.behaviour = EchoBehaviour(model_version="a")
    shadow_replica.behaviour = EchoBehaviour(model_version="b")
    route = {
        "name": "echo",
        "versions": [
            {"version": "a", "weight": 1, "upstreams": [echo.url]},
            {"version": "b", "weight": 0, "upstreams": [shadow_replica.url]},
        ],
        "teams": {"testers": "b"},
    }
    settings = _with_route(settings_for(sqlite_url, {}), route)
    with gateway_in_thread(settings) as gateway:
        testers, others = new_key(gateway.url, "testers"), new_key(gateway.url, "others")
        for _ in range(4):
            assert ask_as(gateway, testers, "hi").headers["x-llmops-model-version"] == "b"
            assert ask_as(gateway, others, "hi").headers["x-llmops-model-version"] == "a"
