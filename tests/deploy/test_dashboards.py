"""Every dashboard loads, every query parses, and every metric it names is one the platform
or vLLM exports (read from the registries the components build)."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import PROFILES
from tests.support import chart, dashboards, metric_names

BOARDS = dashboards.names()


@pytest.fixture(scope="module")
def exported() -> set[str]:
    return metric_names.exported_series()


def test_the_three_dashboards_exist() -> None:
    assert BOARDS == ["gateway", "models-drift", "serving"]


@pytest.mark.parametrize("name", BOARDS)
def test_dashboard_loads_with_unique_ids_and_a_layout(name: str) -> None:
    board = dashboards.load(name)
    assert board["uid"] == f"llmops-{name}" and board["title"].startswith("llmops / ")
    ids = [p["id"] for p in dashboards.panels(board)]
    assert len(ids) == len(set(ids))
    for panel in dashboards.panels(board):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


@pytest.mark.parametrize("name", BOARDS)
def test_every_query_parses_and_names_exported_metrics(name: str, exported: set[str]) -> None:
    queries = dashboards.queries(name)
    assert len(queries) >= 5
    for query in queries:
        try:
            used = dashboards.selector_names(dashboards.expand(query.expr))
        except (ValueError, SyntaxError) as e:
            pytest.fail(f"{query} does not parse: {e}")
        unknown = used - exported
        assert not unknown, f"{query} names metrics nobody exports: {sorted(unknown)}"
    for metric, _label in dashboards.variable_metrics(name):
        assert metric in exported, f"{name}: a variable reads {metric}, which nobody exports"


@pytest.mark.parametrize(
    ("name", "required"),
    [
        (
            "gateway",
            {
                "llmops_gateway_requests_total",
                "llmops_gateway_request_duration_seconds_bucket",
                "llmops_gateway_time_to_first_token_seconds_bucket",
                "llmops_gateway_overhead_seconds_bucket",
                "llmops_gateway_tokens_total",
                "llmops_gateway_ratelimited_total",
                "llmops_upstream_requests_total",
                "llmops_upstream_circuit_open",
                "llmops_gateway_spend_total",
                "llmops_gateway_budget_used_ratio",
                "llmops_gateway_unpriced_requests_total",
            },
        ),
        (
            "serving",
            {
                "vllm:num_requests_running",
                "vllm:num_requests_waiting",
                "vllm:kv_cache_usage_perc",
                "vllm:generation_tokens_total",
                "vllm:time_to_first_token_seconds_bucket",
                "vllm:inter_token_latency_seconds_bucket",
            },
        ),
        (
            "models-drift",
            {
                "llmops_model_version_info",
                "llmops_drift_share",
                "llmops_drift_feature_score",
                "llmops_drift_detected",
                "llmops_drift_operational_detected",
                "llmops_finetune_jobs",
            },
        ),
    ],
)
def test_dashboard_covers_its_subject(name: str, required: set[str]) -> None:
    used = set().union(
        *(dashboards.selector_names(dashboards.expand(q.expr)) for q in dashboards.queries(name))
    )
    assert required <= used, sorted(required - used)


def test_alert_expressions_parse_and_name_exported_metrics(exported: set[str]) -> None:
    assert "monitoring" in PROFILES
    manifests = chart.render({}, api_versions=chart.PROMETHEUS_OPERATOR)
    rule = chart.find(manifests, "PrometheusRule").body
    for group in rule["spec"]["groups"]:
        for alert in group["rules"]:
            used = dashboards.selector_names(alert["expr"])
            assert used and used <= exported, (alert["alert"], sorted(used - exported))
