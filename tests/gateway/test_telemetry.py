"""Metrics, traces and logs: what operators see, under the names the dashboards use."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from llmops.serving.echo import EchoServer
from tests.support.gateways import RunningGateway, gateway_in_thread, gateway_process, settings_for
from tests.support.http import call, chat, new_key

SECRET_PROMPT = "my-secret-prompt-words"
HELLO = {"model": "echo", "messages": [{"role": "user", "content": SECRET_PROMPT}], "max_tokens": 5}


def test_metrics_use_the_contract_names(gateway: RunningGateway, api_key: str) -> None:
    assert chat(gateway.url, api_key, HELLO).status == 200
    assert chat(gateway.url, "sk-wrong", HELLO).status == 401
    limited = new_key(gateway.url, "slow-team", rpm=1)
    chat(gateway.url, limited, HELLO)
    assert chat(gateway.url, limited, HELLO).status == 429
    text = call("GET", f"{gateway.url}/metrics").body.decode()
    for expected in (
        'llmops_gateway_requests_total{cache="bypass",model="echo",status="200",team="team-a"} 1.0',
        'llmops_gateway_requests_total{cache="bypass",model="unknown",status="401",team=""} 1.0',
        'llmops_gateway_requests_total{cache="bypass",model="echo",status="429",team="slow-team"} 1.0',
        'llmops_gateway_ratelimited_total{limit="key_rpm",team="slow-team"} 1.0',
        'llmops_gateway_tokens_total{kind="completion",model="echo",team="team-a"} 1.0',
        'llmops_upstream_requests_total{model="echo",outcome="success",upstream=',
        "llmops_gateway_request_duration_seconds_bucket{",
        "llmops_gateway_overhead_seconds_bucket{",
    ):
        assert expected in text, expected


def test_time_to_first_token_is_measured_on_streams(gateway: RunningGateway, api_key: str) -> None:
    assert chat(gateway.url, api_key, {**HELLO, "stream": True}).status == 200
    text = call("GET", f"{gateway.url}/metrics").body.decode()
    assert 'llmops_gateway_time_to_first_token_seconds_count{model="echo"} 1.0' in text


class _Collector(BaseHTTPRequestHandler):
    spans: list[Any]

    def do_POST(self) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(self.rfile.read(int(self.headers["content-length"])))
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.server.spans.extend(scope.spans)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.spans = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_traces_reach_an_otlp_endpoint(
    collector: ThreadingHTTPServer, echo: EchoServer, sqlite_url: str
) -> None:
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}/v1/traces"
    settings = settings_for(sqlite_url, {"echo": [echo.url]}, tracing={"otlp_endpoint": endpoint})
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with gateway_in_thread(settings) as gw:
        key = new_key(gw.url, "traced")
        reply = call(
            "POST",
            f"{gw.url}/v1/chat/completions",
            body=HELLO,
            headers={
                "authorization": f"Bearer {key}",
                "traceparent": f"00-{caller_trace}-{caller_span}-01",
            },
        )
        assert reply.status == 200
    spans: list[Any] = collector.spans  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while len(spans) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    by_name = {s.name: s for s in spans}
    assert {
        "POST /v1/chat/completions",
        "gateway.auth",
        "gateway.ratelimit",
        "gateway.upstream",
    } <= set(by_name)
    root = by_name["POST /v1/chat/completions"]
    attributes = {a.key: a.value for a in root.attributes}
    assert attributes["gen_ai.request.model"].string_value == "echo"
    assert attributes["gen_ai.operation.name"].string_value == "chat"
    assert attributes["gen_ai.usage.output_tokens"].int_value == 1
    assert by_name["gateway.upstream"].parent_span_id == root.span_id
    assert by_name["gateway.upstream"].trace_id == root.trace_id
    # The caller's trace goes on through the gateway.
    assert root.trace_id.hex() == caller_trace
    assert root.parent_span_id.hex() == caller_span


def test_logs_are_json_and_hold_no_key_or_prompt(echo: EchoServer, tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'k.db'}", {"echo": [echo.url]}, access_log=True)
    with gateway_process(settings, tmp_path) as gw:
        key = new_key(gw.url, "logged")
        assert chat(gw.url, key, HELLO).status == 200
        assert chat(gw.url, key + "x", HELLO).status == 401
    lines = [
        json.loads(line)
        for p in tmp_path.glob("gateway-*.log")
        for line in p.read_text().splitlines()
    ]
    requests = [entry for entry in lines if entry["msg"] == "request"]
    assert [r["status"] for r in requests] == [200, 401]
    assert requests[0]["team"] == "logged" and requests[0]["model"] == "echo"
    assert requests[0]["completion_tokens"] == 1
    everything = "\n".join(p.read_text() for p in tmp_path.glob("gateway-*.log"))
    assert key[len("sk-llmops-") :] not in everything
    assert SECRET_PROMPT not in everything
