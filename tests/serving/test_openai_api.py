"""The replica's OpenAI-compatible API through the official SDK, over the real CPU engine."""

from __future__ import annotations

import http.client
import json
import time

import openai
import pytest

from llmops.serving.cpu import CpuEngine
from tests.serving.capital import CAPITAL, MODEL, stream_with_usage, streamed_text
from tests.support.http import call


@pytest.fixture
def client(replica_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{replica_url}/v1", api_key="unused", max_retries=0)


def test_chat_completion(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=CAPITAL, temperature=0, max_tokens=32
    )
    completion = raw.parse()
    assert raw.headers["x-llmops-model-version"] == "1"
    assert "Paris" in (completion.choices[0].message.content or "")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


def test_chat_stream_with_usage(client: openai.OpenAI) -> None:
    chunks = stream_with_usage(client)
    assert "Paris" in streamed_text(chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and last.usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


def test_chat_stream_without_usage(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=CAPITAL, max_tokens=3, stream=True, temperature=0
        )
    )
    assert all(c.choices and c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "length"


def test_text_completions(client: openai.OpenAI) -> None:
    completion = client.completions.create(
        model=MODEL, prompt="The capital of France is", max_tokens=4, temperature=0
    )
    assert "Paris" in completion.choices[0].text
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 4
    pieces: openai.Stream[openai.types.Completion] = client.completions.create(
        model=MODEL,
        prompt="The capital of France is",
        max_tokens=4,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(pieces)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == completion.choices[0].text
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_models(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [MODEL]


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": MODEL, "messages": []}, 400, "messages"),
        ({"model": MODEL, "messages": CAPITAL, "n": 2}, 400, "n"),
        (
            {"model": MODEL, "messages": CAPITAL, "response_format": {"type": "json_object"}},
            400,
            "response_format.type",
        ),
        ({"model": MODEL, "messages": CAPITAL, "temperature": 9}, 400, "temperature"),
        ({"model": MODEL, "messages": CAPITAL, "max_tokens": 10**6}, 400, "max_tokens"),
        (
            {"model": MODEL, "messages": [{"role": "user", "content": 3}]},
            400,
            "messages[0].content",
        ),
        ({"model": MODEL, "messages": [{"role": "tool", "content": "x"}]}, 400, "messages[0].role"),
        ({"messages": CAPITAL}, 400, "model"),
        ({"model": "other", "messages": CAPITAL}, 404, "model"),
    ],
)
def test_client_mistakes_are_openai_errors(
    replica_url: str, body: dict[str, object], status: int, param: str
) -> None:
    for stream in (False, True):
        reply = call("POST", f"{replica_url}/v1/chat/completions", body={**body, "stream": stream})
        assert reply.status == status, reply.body
        error = reply.json()["error"]
        assert error["param"] == param
        assert error["type"] == "invalid_request_error"
        assert set(error) == {"message", "type", "param", "code"}
        assert reply.headers["x-llmops-model-version"] == "1"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_bodies_that_are_not_objects(replica_url: str, raw: bytes) -> None:
    reply = call("POST", f"{replica_url}/v1/completions", raw=raw)
    assert reply.status == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"


def test_unknown_paths_have_openai_errors(replica_url: str) -> None:
    reply = call("GET", f"{replica_url}/v1/nothing")
    assert reply.status == 404
    assert reply.json()["error"]["message"]


def test_health_and_metrics(client: openai.OpenAI, replica_url: str) -> None:
    client.chat.completions.create(model=MODEL, messages=CAPITAL, max_tokens=2)
    assert call("GET", f"{replica_url}/healthz").json() == {"status": "ok"}
    metrics = call("GET", f"{replica_url}/metrics").body.decode()
    assert 'llmops_serving_requests_total{endpoint="/v1/chat/completions",model="' in metrics
    assert "llmops_serving_requests_running" in metrics
    assert "llmops_serving_generated_tokens_total" in metrics


def _open_stream(replica_url: str, max_tokens: int) -> http.client.HTTPConnection:
    host, port = replica_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Write a very long story about the sea."}],
        "max_tokens": max_tokens,
        "stream": True,
    }
    connection.request(
        "POST", "/v1/chat/completions", json.dumps(body), {"content-type": "application/json"}
    )
    return connection


def test_a_client_leaving_a_stream_stops_its_generation(
    replica_url: str, cpu_engine: CpuEngine
) -> None:
    before = cpu_engine.stats()
    connection = _open_stream(replica_url, max_tokens=400)
    response = connection.getresponse()
    assert response.status == 200
    assert response.readline().startswith(b"data: ")
    connection.sock.close()  # the client goes away mid-stream
    connection.close()
    deadline = time.monotonic() + 30
    while cpu_engine.stats().requests_abandoned == before.requests_abandoned:
        assert time.monotonic() < deadline, cpu_engine.stats()
        time.sleep(0.05)
    after = cpu_engine.stats()
    assert after.requests_running == 0
    assert after.tokens_generated - before.tokens_generated < 100


def test_a_client_leaving_before_a_json_answer_stops_its_generation(
    replica_url: str, cpu_engine: CpuEngine
) -> None:
    before = cpu_engine.stats()
    host, port = replica_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    story = [{"role": "user", "content": "Write a very long story about the sea."}]
    body = {"model": MODEL, "messages": story, "max_tokens": 400}
    connection.request(
        "POST", "/v1/chat/completions", json.dumps(body), {"content-type": "application/json"}
    )
    deadline = time.monotonic() + 30
    while cpu_engine.stats().requests_running == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    connection.close()
    while cpu_engine.stats().requests_abandoned == before.requests_abandoned:
        assert time.monotonic() < deadline, cpu_engine.stats()
        time.sleep(0.05)
    assert cpu_engine.stats().requests_running == 0
