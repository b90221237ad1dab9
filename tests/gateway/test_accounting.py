"""Whatever way a request ends, its replica slot is given back and its tokens are settled.

The in-flight gauge is what least-outstanding routing reads: a request that
leaked its slot would steer traffic away from a healthy replica forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.trace import INVALID_SPAN

from gateway.exchange import Exchange
from gateway.openai_schema import Endpoint
from gateway.ratelimit.base import Ticket
from gateway.usage import Usage
from llmops.serving.echo import EchoServer
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import (
    Reply,
    call,
    chat,
    in_flight,
    metric_values,
    new_key,
    settle_in_flight,
)
from tests.support.services import free_port

HELLO = {"model": "echo", "messages": [{"role": "user", "content": "one two three"}]}


@pytest.fixture
def dead_gateway(echo: EchoServer, sqlite_url: str) -> Iterator[RunningGateway]:
    """``echo`` on the live replica and ``dead`` on a port where nothing listens."""
    settings = settings_for(
        sqlite_url, {"echo": [echo.url], "dead": [f"http://127.0.0.1:{free_port()}/v1"]}
    )
    with gateway_in_thread(settings) as running:
        yield running


def stream(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "stream": True, "stream_options": {"include_usage": True}}


Setup = Callable[[EchoServer], None]


def _fail(status: int) -> Setup:
    def setup(echo: EchoServer) -> None:
        echo.behaviour.status = status

    return setup


def _cut(echo: EchoServer) -> None:
    echo.behaviour.cut_after_tokens = 1


def _odd_version(echo: EchoServer) -> None:
    echo.behaviour.model_version = "versión-ü"


def _bad_usage(echo: EchoServer) -> None:
    echo.behaviour.usage = {"prompt_tokens": "many", "completion_tokens": -3, "total_tokens": []}


def _usage_not_object(echo: EchoServer) -> None:
    echo.behaviour.usage = ["not", "an", "object"]


@pytest.mark.parametrize(
    ("setup", "body", "status"),
    [
        (None, HELLO, 200),
        (None, stream(HELLO), 200),
        (_fail(500), HELLO, 502),
        (_fail(500), stream(HELLO), 502),
        (_fail(400), HELLO, 400),
        (_cut, stream(HELLO), 200),
        (_odd_version, HELLO, 200),
        (_odd_version, stream(HELLO), 200),
        (_bad_usage, HELLO, 200),
        (_bad_usage, stream(HELLO), 200),
        (_usage_not_object, HELLO, 200),
        (None, {**HELLO, "model": "dead"}, 502),
    ],
    ids=[
        "json",
        "stream",
        "replica-500",
        "stream-replica-500",
        "replica-400",
        "stream-cut",
        "odd-version-header",
        "stream-odd-version-header",
        "bad-usage",
        "stream-bad-usage",
        "usage-not-object",
        "unreachable",
    ],
)
def test_every_ending_gives_the_replica_slot_back(
    dead_gateway: RunningGateway,
    echo: EchoServer,
    setup: Setup | None,
    body: dict[str, Any],
    status: int,
) -> None:
    key = new_key(dead_gateway.url, "team-a")
    if setup is not None:
        setup(echo)
    reply = chat(dead_gateway.url, key, body)
    assert reply.status == status, reply.body
    assert reply.headers.get("content-type", "").startswith(
        "text/event-stream" if status == 200 and body.get("stream") else "application/json"
    )
    assert settle_in_flight(dead_gateway.url) == 0
    requests = metric_values(dead_gateway.url, "llmops_gateway_requests_total")
    assert sum(requests.values()) == 1


def test_a_version_header_no_header_may_carry_falls_back_to_the_configured_one(
    gateway: RunningGateway, api_key: str, echo: EchoServer
) -> None:
    echo.behaviour.model_version = "versión-ü"
    reply = chat(gateway.url, api_key, HELLO)
    assert reply.status == 200
    assert reply.headers["x-llmops-model-version"] == "echo"


def test_a_request_larger_than_the_limit_is_refused_for_good(
    gateway: RunningGateway, echo: EchoServer
) -> None:
    key = new_key(gateway.url, "small", tpm=100)
    reply: Reply = chat(gateway.url, key, {**HELLO, "max_tokens": 500})
    assert reply.status == 429
    error = reply.json()["error"]
    assert error["code"] == "request_too_large"
    assert "limit 100" in error["message"] and "requested" in error["message"]
    assert reply.headers["x-should-retry"] == "false"  # the OpenAI SDK does not retry it
    assert "retry-after" not in reply.headers
    assert chat(gateway.url, key, {**HELLO, "max_tokens": 50}).status == 200
    assert len(echo.record.requests) == 1


def _exchange(**fields: Any) -> Exchange:
    ex = Exchange(endpoint=Endpoint.CHAT, started=0.0, span=INVALID_SPAN, reservation="r")
    ex.prompt_tokens, ex.ticket = 20, Ticket(tokens=532)
    for name, value in fields.items():
        setattr(ex, name, value)
    return ex


@pytest.mark.parametrize(
    ("fields", "settled"),
    [
        ({"usage": Usage(20, 7)}, 27),
        ({"sent": False, "status": 502}, 0),
        ({"sent": False, "status": 499}, 0),
        ({"sent": True, "status": 400}, 0),
        ({"sent": True, "status": 200}, 532),
        ({"sent": True, "status": 499}, 20),
        ({"sent": True, "status": 504}, 20),
        ({"sent": True, "status": 502, "usage": Usage(20, 3)}, 23),
    ],
    ids=[
        "reported",
        "never-sent",
        "left-before-sending",
        "replica-refused",
        "answered-without-usage",
        "left-after-sending",
        "timed-out",
        "cut-stream-estimate",
    ],
)
def test_what_a_reservation_settles_to(fields: dict[str, Any], settled: int) -> None:
    assert _exchange(**fields).settled_tokens() == settled


ODD_VALUES: list[Any] = [None, True, -1, 0, 1.5, 1e308, "", "x", [], [None], {}, {"a": 1}, [[[[]]]]]


def _mutations() -> Iterator[dict[str, Any]]:
    base: dict[str, Any] = {**HELLO, "max_tokens": 5}
    for name in (
        "model",
        "messages",
        "max_tokens",
        "n",
        "temperature",
        "top_p",
        "stream",
        "stream_options",
        "user",
        "tools",
    ):
        for value in ODD_VALUES:
            yield {**base, name: value}
    for name in ("role", "content", "name"):
        for value in ODD_VALUES:
            yield {**base, "messages": [{"role": "user", "content": "hi", name: value}]}
    for value in ODD_VALUES:
        yield {**base, "messages": [{"role": "user", "content": [value]}]}
        yield {**base, "messages": [{"role": "user", "content": [{"type": "text", "text": value}]}]}
        yield {**base, "stream": True, "stream_options": {"include_usage": value}}


def test_odd_bodies_are_answered_never_with_a_500(gateway: RunningGateway, api_key: str) -> None:
    statuses: dict[int, int] = {}
    for body in _mutations():
        reply = chat(gateway.url, api_key, body)
        assert reply.status in {200, 400, 404}, (body, reply.body)
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
        if reply.status != 200:
            assert set(reply.json()["error"]) == {"message", "type", "param", "code"}
    for prompt in ODD_VALUES:
        reply = call(
            "POST",
            f"{gateway.v1}/completions",
            body={"model": "echo", "prompt": prompt, "max_tokens": 5},
            headers={"authorization": f"Bearer {api_key}"},
        )
        assert reply.status in {200, 400}, (prompt, reply.body)
    assert statuses.get(200) and statuses.get(400)  # both kinds were exercised
    assert in_flight(gateway.url) == 0
