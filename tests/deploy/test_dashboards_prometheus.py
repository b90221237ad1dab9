"""End to end: a real Prometheus scrapes a real gateway (uvicorn, the echo replica behind
it) under light load, and every query of the Gateway dashboard returns data."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from llmops.serving.echo import EchoServer
from tests.support import dashboards
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import call, new_key
from tests.support.prometheus import Prometheus, prometheus_scraping
from tests.support.services import free_port

# Queries that cannot have data here, each with the reason.
NO_DATA_HERE: dict[str, str] = {
    "Budget used by team": "the load's teams and keys have no budget",
    "Budget refusals (429) per second": "the load's teams and keys have no budget to spend",
}
# A term the guardrails file denies (the rule "probe").
BLOCKED = "forbidden-topic"


@pytest.fixture(scope="module")
def gateway(
    echo_server: EchoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    workdir = tmp_path_factory.mktemp("gateway")
    database = workdir / "gateway.db"
    # Guardrails from a file, as the chart gives them: a deny rule only the load's one
    # probing request trips; the load then breaks the file, which is refused.
    policies = workdir / "guardrails.yaml"
    policies.write_text(f"default: {{input: {{deny: [{{name: probe, terms: [{BLOCKED}]}}]}}}}\n")
    # "broken" points at a port nothing listens on: its requests fail and open a circuit.
    broken = f"http://127.0.0.1:{free_port()}/v1"
    settings = settings_for(
        f"sqlite:///{database}",
        {},
        # "echo" is priced (its requests are spent); "free", the same replica, is not.
        models=[
            {
                "name": "echo",
                "upstreams": [echo_server.url],
                "price": {"input": "2", "output": "8"},
            },
            {"name": "free", "upstreams": [echo_server.url]},
            {"name": "broken", "upstreams": [broken]},
        ],
        routing={"retries": {"max_attempts": 1}, "health": {"interval_seconds": 0}},
        # Repeated greedy requests hit the exact tier; their rewording is a verified
        # near-match that the error bound, still learning, holds and checks.
        cache={"enabled": True},
        guardrails={"file": str(policies), "poll_seconds": 0.5},
    )
    with gateway_in_thread(settings) as running:
        yield running


def _chat(
    gateway: RunningGateway,
    key: str,
    model: str,
    *,
    stream: bool = False,
    greedy: bool = False,
    text: str = "how many tokens is this prompt?",
    expect_cache: str | None = None,
) -> int:
    """The reply's status (0 when ``expect_cache`` is given and the cache said otherwise)."""
    body: dict[str, object] = {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "max_tokens": 8,
    }
    if greedy:  # cacheable: the first one misses, the repeats hit
        body["temperature"] = 0
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    reply = call(
        "POST",
        f"{gateway.v1}/chat/completions",
        body=body,
        headers={"authorization": f"Bearer {key}"},
    )
    if expect_cache is not None and reply.headers.get("x-llmops-cache") != expect_cache:
        return 0
    return reply.status


def _light_load(gateway: RunningGateway, seconds: float) -> list[int]:
    """A few requests a second for a while: JSON and streams from two teams, one of them
    over its rate limit, some to a replica that is down, some to a model with no price,
    and some the cache answers; the guardrails file broken, then a request it blocks."""
    alpha = new_key(gateway.url, "alpha")
    beta = new_key(gateway.url, "beta", rpm=3)
    # A question, then its rewording once the first answer is kept: a near-match for the
    # semantic tier's error bound to hold and check.
    statuses = [_chat(gateway, alpha, "echo", greedy=True)]
    deadline = time.monotonic() + 30
    while _chat(gateway, alpha, "echo", greedy=True, expect_cache="hit") != 200:
        assert time.monotonic() < deadline, "the first answer was never kept"
        time.sleep(0.05)
    statuses.append(
        _chat(gateway, alpha, "echo", greedy=True, text="Hi! How many tokens is this prompt")
    )
    # Refused (the action "shout" does not exist): the last good policies stay.
    policies = gateway.settings.guardrails.file
    assert policies is not None
    policies.write_text("default: {input: {pii: {action: shout}}}\n")
    deadline = time.monotonic() + seconds
    with ThreadPoolExecutor(4) as pool:
        while time.monotonic() < deadline:
            batch = [
                pool.submit(_chat, gateway, alpha, "echo"),
                pool.submit(_chat, gateway, alpha, "echo", greedy=True),
                pool.submit(_chat, gateway, alpha, "echo", stream=True),
                pool.submit(_chat, gateway, beta, "echo", stream=True),
                pool.submit(_chat, gateway, alpha, "broken"),
                pool.submit(_chat, gateway, alpha, "free"),
            ]
            statuses += [f.result() for f in batch]
            time.sleep(0.25)
    statuses.append(_chat(gateway, alpha, "echo", text=f"tell me about the {BLOCKED}"))
    return statuses


@pytest.fixture(scope="module")
def prometheus(gateway: RunningGateway) -> Iterator[Prometheus]:
    with prometheus_scraping([urlsplit(gateway.url).netloc], interval_seconds=1.0) as server:
        statuses = _light_load(gateway, seconds=6)
        assert {200, 400, 429, 502} <= set(statuses), sorted(set(statuses))
        time.sleep(2.5)  # two more scrapes after the last request
        yield server


def test_every_gateway_dashboard_query_returns_data(prometheus: Prometheus, tmp_path: Path) -> None:
    queries = dashboards.queries("gateway")
    assert len(queries) >= 15
    empty = []
    for query in queries:
        result = prometheus.query(dashboards.expand(query.expr, rate_interval="1m"))
        if query.where in NO_DATA_HERE:
            continue
        if not result:
            empty.append(str(query))
    assert not empty, "queries without data:\n" + "\n".join(empty)


def test_dashboard_variables_list_the_models_and_teams(prometheus: Prometheus) -> None:
    for metric, label in dashboards.variable_metrics("gateway"):
        values = {r["metric"].get(label) for r in prometheus.query(metric)}
        expected = {"echo", "broken"} if label == "model" else {"alpha", "beta"}
        assert expected <= values, (label, values)


def test_figures_match_the_load(prometheus: Prometheus) -> None:
    """The panels show what happened, not just anything: 429s only for the limited team,
    errors only on the broken replica, streams' time to first token recorded, spend only
    on the priced model, the one block by the deny rule, the broken file refused."""
    limited = prometheus.query("sum by (team) (llmops_gateway_ratelimited_total)")
    assert {r["metric"]["team"] for r in limited} == {"beta"}
    errors = prometheus.query('sum by (model) (llmops_upstream_requests_total{outcome!="success"})')
    assert {r["metric"]["model"] for r in errors} == {"broken"}
    ttft = prometheus.query("sum(llmops_gateway_time_to_first_token_seconds_count)")
    assert float(ttft[0]["value"][1]) > 0
    spent = prometheus.query("sum by (model) (llmops_gateway_spend_total) > 0")
    assert {r["metric"]["model"] for r in spent} == {"echo"}
    unpriced = prometheus.query("sum by (model) (llmops_gateway_unpriced_requests_total) > 0")
    assert "free" in {r["metric"]["model"] for r in unpriced}
    assert "echo" not in {r["metric"]["model"] for r in unpriced}
    blocks = prometheus.query(
        'sum by (team, policy) (llmops_guardrail_actions_total{action="block"})'
    )
    assert [(r["metric"]["team"], r["metric"]["policy"], r["value"][1]) for r in blocks] == [
        ("alpha", "input.deny.probe", "1")
    ]
    reloads = prometheus.query("sum by (result) (llmops_guardrail_reloads_total)")
    assert {r["metric"]["result"]: r["value"][1] for r in reloads} == {"ok": "1", "error": "1"}
