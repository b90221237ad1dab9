"""What the rendered objects promise: pods locked down, the gateway's and the operator's
configuration accepted by the real settings loaders, least-privilege RBAC."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import GatewaySettings
from llmops import settings as core_settings
from operators import config as operator_config
from operators import kube, schemas
from operators import main as operator_main
from tests.deploy.conftest import PROFILES
from tests.support import chart

WORKLOADS = {"Deployment", "StatefulSet", "Pod"}


def _pods(manifests: list[chart.Manifest]) -> list[tuple[chart.Manifest, dict[str, Any]]]:
    out = []
    for m in manifests:
        if m.kind in WORKLOADS:
            spec = m.body["spec"] if m.kind == "Pod" else m.body["spec"]["template"]["spec"]
            out.append((m, spec))
    return out


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_pod_is_locked_down(rendered: dict[str, list[chart.Manifest]], profile: str) -> None:
    pods = _pods(rendered[profile])
    assert len(pods) >= 3
    for manifest, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, manifest
        assert pod["securityContext"]["runAsUser"] > 0, manifest
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, manifest
        is_hook = "helm.sh/hook" in manifest.body["metadata"].get("annotations", {})
        for kind in ("initContainers", "containers"):
            for container in pod.get(kind, []):
                where = f"{manifest} container {container['name']}"
                sc = container["securityContext"]
                assert sc["readOnlyRootFilesystem"] is True, where
                assert sc["allowPrivilegeEscalation"] is False, where
                assert sc["capabilities"]["drop"] == ["ALL"], where
                resources = container["resources"]
                assert {"cpu", "memory"} <= set(resources["requests"]), where
                assert {"cpu", "memory"} <= set(resources["limits"]), where
                # Long-running containers only: init containers and the `helm test` hook
                # run to completion, where probes mean nothing.
                if kind == "containers" and not is_hook:
                    assert "livenessProbe" in container and "readinessProbe" in container, where


def _secret_env(manifest: chart.Manifest, container: dict[str, Any]) -> dict[str, str]:
    """The container's environment as the kubelet builds it, with made-up secret values
    and ``$(VAR)`` references expanded."""
    env: dict[str, str] = {}
    for item in container["env"]:
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            fake = {
                "database-url": "postgresql://u:p@db.example:5432/llmops",
                "redis-url": "redis://:p@redis.example:6379/0",
                "admin-tokens": "{ci: ci-admin-token-0123456789}",  # optional: a YAML map
            }
            env[item["name"]] = fake.get(ref["key"], f"secret-{ref['key']}-0123456789abcdef")
        else:
            env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], item["value"])
    return env


def _gateway_pod_config(
    manifests: list[chart.Manifest],
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """The gateway's settings file, environment and container, as its pod gets them."""
    config_map = chart.find(manifests, "ConfigMap", "llmops-gateway")
    deployment = chart.find(manifests, "Deployment", "llmops-gateway")
    container = deployment.body["spec"]["template"]["spec"]["containers"][0]
    data: dict[str, Any] = yaml.safe_load(config_map.body["data"]["gateway.yaml"])
    return data, _secret_env(deployment, container), container


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_gateway_settings_load_as_the_pod_sees_them(
    rendered: dict[str, list[chart.Manifest]], profile: str, tmp_path: Path
) -> None:
    data, env, container = _gateway_pod_config(rendered[profile])
    assert container["command"][:3] == ["llmops", "gateway", "serve"]
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(data))
    settings = core_settings.load(GatewaySettings, config, environ=env)
    assert settings.host == "0.0.0.0"
    assert settings.port == container["ports"][0]["containerPort"]
    assert settings.admin_port == container["ports"][1]["containerPort"]
    assert settings.admin_tokens == {"ci": "ci-admin-token-0123456789"}
    assert settings.database_url.startswith("postgresql://")
    assert settings.key_hash_secret == "secret-key-hash-secret-0123456789abcdef"
    assert settings.redis_url is not None and settings.redis_url.startswith("redis://")
    assert not settings.migrate_on_start  # the init container migrates
    # The operator's routes (contract: ConfigMap key routes.yaml) where the pod mounts them.
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert str(settings.routes_file) == f"{mounts['routes']}/routes.yaml"
    assert container["command"][-1] == f"{mounts['config']}/gateway.yaml"
    # No volume inside another (a read-only ConfigMap volume cannot hold a mount point).
    paths = sorted(mounts.values())
    assert not any(b.startswith(a + "/") for a in paths for b in paths), paths
    deployment = chart.find(rendered[profile], "Deployment", "llmops-gateway").body
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["routes"]["configMap"] == {"name": "llmops-routes", "optional": True}


def test_gateway_database_password_comes_from_the_secret(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    manifests = rendered["default"]
    secret = chart.find(manifests, "Secret")
    password = base64.b64decode(secret.body["data"]["postgres-password"]).decode()
    assert len(password) == 40
    gateway = chart.find(manifests, "Deployment", "llmops-gateway")
    env = gateway.body["spec"]["template"]["spec"]["containers"][0]["env"]
    url = next(e["value"] for e in env if e["name"] == "LLMOPS_DATABASE_URL")
    assert url == "postgresql://llmops:$(PGPASSWORD)@llmops-postgresql:5432/llmops"
    assert "value" not in next(e for e in env if e["name"] == "PGPASSWORD")


def _operator_config(manifests: list[chart.Manifest]) -> dict[str, Any]:
    config_map = chart.find(manifests, "ConfigMap", "llmops-operator")
    data: dict[str, Any] = yaml.safe_load(config_map.body["data"]["operator.yaml"])
    return data


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_operator_config_loads_in_the_operator(
    rendered: dict[str, list[chart.Manifest]], profile: str, tmp_path: Path
) -> None:
    path = tmp_path / "operator.yaml"
    path.write_text(yaml.safe_dump(_operator_config(rendered[profile])))
    config = operator_config.load(path)
    assert config.namespace == config.operator_namespace == "llmops"
    assert config.routes.config_map == "llmops-routes"
    assert config.routes_namespace == "llmops"  # where the gateway mounts it from
    assert config.mlflow.tracking_uri == "http://llmops-mlflow:5000"
    assert config.metrics_port == 9090
    operator = chart.find(rendered[profile], "Deployment", "llmops-operator").body
    ports = operator["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert ports == [{"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]


def test_operator_config_carries_node_pools_and_kueue(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    gpu = _operator_config(rendered["gpu"])
    assert gpu["nodePools"] == chart.profile("gpu")["operator"]["nodePools"]
    assert gpu["routes"] == {"configMap": "llmops-routes"}
    assert gpu["mlflow"] == {"trackingUri": "http://llmops-mlflow:5000"}
    pools = operator_config.OperatorConfig.model_validate(gpu).node_pools
    assert [(p.name, p.gpu_type, p.gpus_per_node) for p in pools] == [
        ("gpu-l4", "nvidia-l4", 2),
        ("gpu-a100", "nvidia-tesla-a100", 8),
    ]
    assert gpu["kueue"] == {"enabled": False, "defaultQueue": "llmops"}
    assert set(gpu["images"]) == {"serving", "servingCpu", "trainer", "ray"}
    assert _operator_config(rendered["kueue"])["kueue"] == {
        "enabled": True,
        "defaultQueue": "research",
    }
    operator = chart.find(rendered["gpu"], "Deployment", "llmops-operator")
    command = operator.body["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:5] == ["llmops", "operator", "run", "--config", "/etc/llmops/operator.yaml"]


def _rules(manifest: chart.Manifest) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = manifest.body["rules"]
    return rules


def test_operator_rbac_is_least_privilege(rendered: dict[str, list[chart.Manifest]]) -> None:
    manifests = rendered["default"]
    cluster_role = chart.find(manifests, "ClusterRole")
    for rule in _rules(cluster_role):
        # Cluster-wide, the operator only reads.
        assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
        assert "secrets" not in rule["resources"], rule
    role = chart.find(manifests, "Role")
    for rule in _rules(role):
        assert "*" not in rule["verbs"] and "*" not in rule["resources"], rule
        assert "secrets" not in rule["resources"], rule
        assert not {"roles", "rolebindings"} & set(rule["resources"]), rule
    writes = [r for r in _rules(role) if "configmaps" in r["resources"] and "patch" in r["verbs"]]
    assert [r.get("resourceNames") for r in writes] == [["llmops-routes"]]


def test_default_model_deployment_is_a_valid_custom_resource(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    """Checked against the CRD's schema, as the API server would."""
    assert not any(m.kind == "ModelDeployment" for m in rendered["default"])
    deployment = chart.find(rendered["gpu"], "ModelDeployment", "assistant")
    assert schemas.problems(deployment.body) == []
    assert deployment.body["spec"]["nodePool"] in {
        p["name"] for p in _operator_config(rendered["gpu"])["nodePools"]
    }
    with_defaults = chart.render({"defaultModelDeployment": {"enabled": True}})
    assert schemas.problems(chart.find(with_defaults, "ModelDeployment").body) == []


def _grants(manifest: chart.Manifest) -> dict[tuple[str, str], set[str]]:
    """(API group, resource) to the verbs a Role or ClusterRole grants (any name)."""
    out: dict[tuple[str, str], set[str]] = {}
    for rule in _rules(manifest):
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                out.setdefault((group, resource), set()).update(rule["verbs"])
    return out


def _operator_needs() -> tuple[dict[tuple[str, str], set[str]], set[tuple[str, str]]]:
    """What the operator's own code touches: the resources its kopf handlers watch (list,
    watch; patch and status for the ones it reconciles), and every resource its API
    client is given (operators.kube); and which of them are cluster-scoped."""
    registry = operator_main.build_registry(operator_config.OperatorConfig())
    needs: dict[tuple[str, str], set[str]] = {}
    for kind in ("_watching", "_changing", "_spawning"):
        for handler in getattr(registry, kind).get_all_handlers():
            key = (handler.selector.group, handler.selector.any_name)
            needs.setdefault(key, set()).update({"list", "watch"})
            if kind != "_watching":
                needs[key].add("patch")
                needs.setdefault((key[0], f"{key[1]}/status"), set()).add("patch")
    cluster_scoped = set()
    for value in vars(kube).values():
        if isinstance(value, kube.Resource):
            key = (value.group, value.plural)
            needs.setdefault(key, set()).add("get")
            if not value.namespaced:
                cluster_scoped.add(key)
    return needs, cluster_scoped


def test_operator_rbac_covers_what_the_operator_touches_and_no_more(
    rendered: dict[str, list[chart.Manifest]],
) -> None:
    manifests = rendered["default"]
    role, cluster_role = chart.find(manifests, "Role"), chart.find(manifests, "ClusterRole")
    namespaced, cluster = _grants(role), _grants(cluster_role)
    needs, cluster_scoped = _operator_needs()
    for key, verbs in needs.items():
        granted = cluster if key in cluster_scoped else namespaced
        assert verbs <= granted.get(key, set()), f"{key} needs {sorted(verbs)}"
    # Framework and bookkeeping beyond the code's resources: events it posts, the CRDs
    # kopf watches to notice resources appearing, the namespaces it lists and watches.
    framework = {("", "events"), ("events.k8s.io", "events")}
    assert set(namespaced) - set(needs) <= framework, set(namespaced) - set(needs)
    assert set(cluster) - cluster_scoped == {
        ("apiextensions.k8s.io", "customresourcedefinitions"),
        ("", "namespaces"),
    }
