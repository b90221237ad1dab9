"""The chart renders valid Kubernetes objects in every values profile, and Helm's strict
lint has nothing to say."""

from __future__ import annotations

import json
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml

from gateway.guardrails.service import PolicyFile
from tests.deploy.conftest import PROFILES, profile_values
from tests.support import chart

KUBERNETES = ("1.30.0", "1.34.0")
# Kinds defined by CRDs: Kubernetes' schemas do not know them. Ours are checked against
# our CRDs (test_chart_objects); the Prometheus Operator's CRD schemas are not available
# here, so its objects are checked field by field (test_monitoring_objects_...) and their
# PromQL against the exported metrics (test_dashboards).
CRD_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule", "ModelDeployment"}


@pytest.mark.parametrize("kube_version", ["v1.30.0", "v1.34.0"])
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_strict_lint_passes(profile: str, kube_version: str) -> None:
    result = helm_python.lint(
        chart.CHART, profile_values(profile), strict=True, kube_version=kube_version
    )
    problems = [m for m in result["messages"] if m["severity"] > 1]
    assert result["errors"] == [] and problems == [], (result["errors"], problems)


@pytest.mark.parametrize("version", KUBERNETES)
def test_every_manifest_is_valid_kubernetes(
    rendered: dict[str, list[chart.Manifest]], version: str
) -> None:
    # Most objects are the same in several profiles: each distinct one is checked once.
    distinct: dict[str, tuple[str, chart.Manifest]] = {}
    for profile, manifests in rendered.items():
        for manifest in manifests:
            if manifest.kind not in CRD_KINDS:
                distinct.setdefault(json.dumps(manifest.body, sort_keys=True), (profile, manifest))
    for profile, manifest in distinct.values():
        try:
            kubernetes_validate.validate(manifest.body, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"{profile}: {manifest} is invalid for Kubernetes {version}: {e.message}")
    assert len(distinct) > 30


def _kinds(manifests: list[chart.Manifest]) -> set[str]:
    return {f"{m.kind}/{m.name}" for m in manifests}


def test_default_profile_installs_the_whole_stack(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    kinds = _kinds(rendered["default"])
    for expected in (
        "Deployment/llmops-gateway",
        "Service/llmops-gateway",
        "HorizontalPodAutoscaler/llmops-gateway",
        "PodDisruptionBudget/llmops-gateway",
        "ConfigMap/llmops-gateway",
        "Secret/llmops-secrets",
        "Deployment/llmops-operator",
        "ConfigMap/llmops-operator",
        "Role/llmops-operator",
        "ClusterRole/llmops-operator-llmops",
        "Deployment/llmops-mlflow",
        "Service/llmops-mlflow",
        "PersistentVolumeClaim/llmops-mlflow",
        "StatefulSet/llmops-postgresql",
        "StatefulSet/llmops-redis",
        "NetworkPolicy/llmops-gateway",
        "Pod/llmops-test",
        "ConfigMap/llmops-dashboard-gateway",
        "ConfigMap/llmops-dashboard-serving",
        "ConfigMap/llmops-dashboard-models-drift",
    ):
        assert expected in kinds
    # Without the Prometheus Operator's CRDs in the cluster, none of its objects.
    assert not any(m.api_version.startswith("monitoring.coreos.com") for m in rendered["default"])


def test_the_admin_listener_is_kept_from_app_teams(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    manifests = rendered["default"]
    config = yaml.safe_load(
        chart.find(manifests, "ConfigMap", "llmops-gateway").body["data"]["gateway.yaml"]
    )
    assert (config["port"], config["admin_port"]) == (8080, 8081)
    public = chart.find(manifests, "Service", "llmops-gateway").body["spec"]["ports"]
    private = chart.find(manifests, "Service", "llmops-gateway-admin").body["spec"]["ports"]
    assert [p["targetPort"] for p in public] == ["http"]
    assert [p["targetPort"] for p in private] == ["admin"]
    policy = chart.find(manifests, "NetworkPolicy", "llmops-gateway").body["spec"]["ingress"]
    admin_rule = next(r for r in policy if r["ports"][0]["port"] == "admin")
    peers = admin_rule["from"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "llmops"}}} in peers
    assert all("from" not in r for r in policy if r["ports"][0]["port"] == "http")  # everyone
    gateway = chart.find(manifests, "Deployment", "llmops-gateway").body["spec"]["template"]
    env = {e["name"]: e for e in gateway["spec"]["containers"][0]["env"]}
    assert env["LLMOPS_ADMIN_TOKENS"]["valueFrom"]["secretKeyRef"]["optional"] is True


def test_production_profile_uses_external_services(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    manifests = rendered["production"]
    kinds = _kinds(manifests)
    assert not any(k.startswith(("StatefulSet/", "Secret/")) for k in kinds)
    gateway = chart.find(manifests, "Deployment", "llmops-gateway")
    env = {e["name"]: e for e in gateway.body["spec"]["template"]["spec"]["containers"][0]["env"]}
    for name, key in (("LLMOPS_DATABASE_URL", "database-url"), ("LLMOPS_REDIS_URL", "redis-url")):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "llmops-prod", "key": key}
    mlflow = chart.find(manifests, "Deployment", "llmops-mlflow").body["spec"]["template"]["spec"]
    command = mlflow["containers"][0]["command"]
    assert (
        command[command.index("--artifacts-destination") + 1] == "s3://my-llmops-artifacts/mlflow"
    )
    assert "PersistentVolumeClaim/llmops-mlflow" not in kinds
    hpa = chart.find(manifests, "HorizontalPodAutoscaler", "llmops-gateway").body["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 20)


def test_monitoring_objects_when_the_prometheus_operator_is_installed(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    manifests = rendered["monitoring"]
    monitor = chart.find(manifests, "ServiceMonitor").body
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert {e["port"] for e in monitor["spec"]["endpoints"]} == {"admin", "metrics"}
    services = [m for m in manifests if m.kind == "Service"]
    ports = {p["name"] for s in services for p in s.body["spec"]["ports"]}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
    replicas = chart.find(manifests, "PodMonitor").body["spec"]
    assert replicas["selector"] == {"matchLabels": {"ray.io/is-ray-node": "yes"}}
    assert replicas["podMetricsEndpoints"][0]["port"] == "metrics"
    rule = chart.find(manifests, "PrometheusRule").body
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    assert set(alerts) == {
        "LlmopsGatewayErrorRate",
        "LlmopsGatewayP99Latency",
        "LlmopsCacheErrorBoundExceeded",
        "LlmopsCacheSemanticTierOff",
        "LlmopsDriftDetected",
        "LlmopsFineTuneJobFailures",
        "LlmopsTeamBudgetSoftThreshold",
        "LlmopsTeamBudgetExhausted",
        "LlmopsGuardrailsFileRefused",
        "LlmopsGuardrailAuditDropped",
    }
    soft = alerts["LlmopsTeamBudgetSoftThreshold"]
    reached = "max by (team, budget) (llmops_gateway_budget_soft_threshold_reached) == 1"
    assert reached in soft["expr"] and "llmops_gateway_budget_used_ratio" in soft["expr"]
    assert soft["for"] == "5m" and "{{ $labels.budget }}" in soft["annotations"]["summary"]
    exhausted = alerts["LlmopsTeamBudgetExhausted"]["expr"]
    assert 'llmops_gateway_ratelimited_total{limit=~"team_budget|key_budget"}[10m]' in exhausted
    refused = alerts["LlmopsGuardrailsFileRefused"]
    assert 'increase(llmops_guardrail_reloads_total{result="error"}[10m])' in refused["expr"]
    assert "last good policies are kept" in refused["annotations"]["summary"]
    dropped = alerts["LlmopsGuardrailAuditDropped"]["expr"]
    assert "increase(llmops_guardrail_audit_dropped_total[10m])) > 0" in dropped
    for name in ("LlmopsGuardrailsFileRefused", "LlmopsGuardrailAuditDropped"):
        assert alerts[name]["labels"]["severity"] == "warning" and "for" not in alerts[name]
    for alert in alerts.values():
        assert set(alert) <= {"alert", "expr", "for", "labels", "annotations"}
        assert alert["labels"]["severity"] in {"warning", "critical"}
        assert "{{ $labels" in alert["annotations"]["summary"] or "$value" in str(alert)


def test_dashboards_are_shipped_for_the_grafana_sidecar(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    maps = [m for m in rendered["default"] if m.name.startswith("llmops-dashboard-")]
    shipped = {key for m in maps for key in m.body["data"]}
    on_disk = {p.name for p in (chart.ROOT / "dashboards").glob("*.json")}
    assert shipped == on_disk
    for m in maps:
        assert m.body["metadata"]["labels"]["grafana_dashboard"] == "1"
        for key, text in m.body["data"].items():
            assert text == (chart.ROOT / "dashboards" / key).read_text().rstrip("\n")


def _pod(manifest: chart.Manifest) -> dict[str, Any]:
    body = manifest.body
    spec: dict[str, Any] = (
        body["spec"] if manifest.kind == "Pod" else body["spec"]["template"]["spec"]
    )
    return spec


def test_helm_test_hook_checks_the_gateway_and_mlflow(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    hook = chart.find(rendered["default"], "Pod", "llmops-test")
    assert hook.body["metadata"]["annotations"]["helm.sh/hook"] == "test"
    args = _pod(hook)["containers"][0]["args"]
    assert "http://llmops-gateway:80/readyz" in args
    assert "http://llmops-mlflow:5000/health" in args


GUARDRAIL_POLICIES = {
    "default": {
        "input": {"injection": {"action": "block"}, "secrets": {"action": "mask"}},
        "output": {"deny": [{"name": "codename", "patterns": [r"project\s+falcon"]}]},
    },
    # null turns a check off for the team: it must reach the file.
    "teams": {
        "research": {"input": {"injection": {"action": "flag"}}},
        "sandbox": {"input": {"injection": None}},
    },
}


def _guardrail_volumes(gateway: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        v for v in gateway["volumes"] if v.get("configMap", {}).get("name") == "llmops-guardrails"
    ]


def test_guardrail_policies_reach_the_gateway_as_a_file_reloaded_without_restart(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    values = {
        "guardrails": {"policies": GUARDRAIL_POLICIES},
        "gateway": {"config": {"guardrails": {"poll_seconds": 5}}},
    }
    manifests = chart.render(values)
    policies = chart.find(manifests, "ConfigMap", "llmops-guardrails")
    assert policies.body["metadata"]["labels"]["app.kubernetes.io/component"] == "gateway"
    text = policies.body["data"]["guardrails.yaml"]
    assert yaml.safe_load(text) == GUARDRAIL_POLICIES
    PolicyFile.model_validate(yaml.safe_load(text))  # what the gateway reads it as
    config = yaml.safe_load(
        chart.find(manifests, "ConfigMap", "llmops-gateway").body["data"]["gateway.yaml"]
    )
    # The file's path is merged into the gateway's guardrail settings, which stay.
    assert config["guardrails"] == {
        "file": "/etc/llmops/guardrails/guardrails.yaml",
        "poll_seconds": 5,
    }
    deployment = chart.find(manifests, "Deployment", "llmops-gateway")
    pod = _pod(deployment)
    [volume] = _guardrail_volumes(pod)
    [serve] = pod["containers"]
    [mount] = [m for m in serve["volumeMounts"] if m["name"] == volume["name"]]
    # A directory, not a subPath: the kubelet updates it in place when the ConfigMap changes.
    assert "subPath" not in mount and mount["readOnly"] is True
    assert f"{mount['mountPath']}/guardrails.yaml" == config["guardrails"]["file"]
    # Other policies change the ConfigMap only: the pods are not restarted for them.
    changed = {"default": {"input": {"pii": {"action": "mask"}}}}
    again = chart.render({**values, "guardrails": {"policies": changed}})
    assert chart.find(again, "Deployment", "llmops-gateway").body == deployment.body
    assert (
        yaml.safe_load(
            chart.find(again, "ConfigMap", "llmops-guardrails").body["data"]["guardrails.yaml"]
        )
        == changed
    )
    # Without policies, none of it.
    for profile, manifests in rendered.items():
        assert "ConfigMap/llmops-guardrails" not in _kinds(manifests), profile
        config = yaml.safe_load(
            chart.find(manifests, "ConfigMap", "llmops-gateway").body["data"]["gateway.yaml"]
        )
        assert "guardrails" not in config, profile
        assert not _guardrail_volumes(_pod(chart.find(manifests, "Deployment", "llmops-gateway")))


def test_notes_tell_how_to_reach_the_gateway() -> None:
    text = chart.notes({})
    assert "port-forward svc/llmops-gateway" in text
    assert "helm test llmops" in text
    assert "Prometheus Operator's CRDs were not found" in text
