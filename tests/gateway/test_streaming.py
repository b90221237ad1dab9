"""Streams pass through as they are made, and a client that leaves stops the replica's work."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import openai
import pytest

from llmops.serving.echo import EchoServer
from tests.support.gateways import RunningGateway
from tests.support.http import call, in_flight, metric_values, settle_in_flight

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa"


def body(stream: bool, **extra: object) -> dict[str, object]:
    return {
        "model": "echo",
        "messages": [{"role": "user", "content": WORDS}],
        "stream": stream,
        **extra,
    }


async def test_chunks_arrive_as_the_replica_makes_them(
    gateway: RunningGateway, api_key: str, echo: EchoServer
) -> None:
    echo.behaviour.token_delay_seconds = 0.15
    arrivals: list[float] = []
    async with aiohttp.ClientSession(headers={"authorization": f"Bearer {api_key}"}) as session:
        start = time.monotonic()
        async with session.post(f"{gateway.v1}/chat/completions", json=body(True)) as response:
            assert response.status == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.content:
                if line.startswith(b"data: {"):
                    arrivals.append(time.monotonic() - start)
    # Ten words at 0.15 s apart: the first must arrive long before the last is made.
    assert len(arrivals) >= 10
    assert arrivals[0] < 0.5
    assert arrivals[-1] - arrivals[0] > 1.0


async def test_client_leaving_a_stream_cancels_the_upstream(
    gateway: RunningGateway, api_key: str, echo: EchoServer
) -> None:
    echo.behaviour.token_delay_seconds = 0.2
    async with aiohttp.ClientSession(headers={"authorization": f"Bearer {api_key}"}) as session:
        response = await session.post(f"{gateway.v1}/chat/completions", json=body(True))
        await response.content.readline()
        assert in_flight(gateway.url) == 1
        response.close()  # the client goes away after the first chunk
    assert await asyncio.to_thread(settle_in_flight, gateway.url) == 0  # its slot is back
    deadline = time.monotonic() + 2.0
    while echo.record.streams_abandoned == 0:
        assert time.monotonic() < deadline, "the replica kept generating for a client that left"
        await asyncio.sleep(0.05)
    assert echo.record.streams_finished == 0
    metrics = call("GET", f"{gateway.url}/metrics").body.decode()
    assert 'outcome="cancelled"' in metrics
    assert 'status="499"' in metrics


async def test_client_leaving_a_pending_request_cancels_the_upstream(
    gateway: RunningGateway, api_key: str, echo: EchoServer
) -> None:
    echo.behaviour.delay_seconds = 1.0
    async with aiohttp.ClientSession(headers={"authorization": f"Bearer {api_key}"}) as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.post(
                f"{gateway.v1}/chat/completions",
                json=body(False),
                timeout=aiohttp.ClientTimeout(total=0.3),
            )
    assert await asyncio.to_thread(settle_in_flight, gateway.url) == 0  # its slot is back
    await asyncio.sleep(1.2)
    assert echo.record.requests_abandoned == 1
    statuses = metric_values(gateway.url, "llmops_gateway_requests_total")
    assert sum(v for k, v in statuses.items() if 'status="499"' in k) == 1


def test_a_stream_cut_by_the_replica_ends_in_an_error_event(
    gateway: RunningGateway, api_key: str, echo: EchoServer
) -> None:
    echo.behaviour.cut_after_tokens = 3
    reply = call(
        "POST",
        f"{gateway.v1}/chat/completions",
        body=body(True, stream_options={"include_usage": True}),
        headers={"authorization": f"Bearer {api_key}"},
    )
    text = reply.body.decode()
    assert text.count('data: {"id"') == 3
    assert "upstream_stream_broken" in text
    assert "[DONE]" not in text
    metrics = call("GET", f"{gateway.url}/metrics").body.decode()
    # The cut stream's tokens are still accounted (estimated: the prompt and 3 chunks).
    assert (
        'llmops_gateway_tokens_total{kind="completion",model="echo",team="team-a"} 3.0' in metrics
    )
    assert 'status="502"' in metrics

    client = openai.OpenAI(base_url=gateway.v1, api_key=api_key, max_retries=0)
    stream = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": WORDS}], stream=True
    )
    with pytest.raises(openai.APIError, match="broke off the stream"):
        for _ in stream:
            pass
