"""The Helm chart as tests meet it: rendered by Helm's own engine (helm-python-sdk), with
the values profiles of ``helm/llmops/ci`` and the cluster capabilities a test asks for.

``python -m tests.support.chart`` rewrites the generated parts of ``values.schema.json``:
``gateway.config`` from the gateway's settings model and ``defaultModelDeployment.spec``
from the ModelDeployment CRD (run it when either changes).
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import yaml
from helm_python import _native

from gateway.settings import GatewaySettings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "llmops"
SCHEMA = CHART / "values.schema.json"
CRDS = CHART / "crds"
PROFILES = CHART / "ci"
PROMETHEUS_OPERATOR = (
    "monitoring.coreos.com/v1",
    "monitoring.coreos.com/v1/ServiceMonitor",
    "monitoring.coreos.com/v1/PrometheusRule",
    "monitoring.coreos.com/v1/PodMonitor",
)
# Gateway settings the chart sets itself (listener, database, Redis, secrets, routes).
CHART_SET_GATEWAY_KEYS = (
    "host",
    "port",
    "migrate_on_start",
    "database_url",
    "redis_url",
    "admin_token",
    "key_hash_secret",
    "routes_file",
)


@dataclass(frozen=True)
class Manifest:
    template: str
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def api_version(self) -> str:
        return str(self.body["apiVersion"])

    def __str__(self) -> str:
        return f"{self.kind}/{self.name} ({self.template})"


def profile(name: str) -> dict[str, Any]:
    """The values of ``helm/llmops/ci/<name>-values.yaml``."""
    data = yaml.safe_load((PROFILES / f"{name}-values.yaml").read_text())
    return data or {}


def render(
    values: dict[str, Any] | None = None,
    *,
    api_versions: Iterable[str] = (),
    kube_version: str = "v1.34.0",
    release: str = "llmops",
    namespace: str = "llmops",
) -> list[Manifest]:
    """Every object the chart renders (CRDs of ``crds/`` excluded, as Helm installs them
    apart), as a cluster with these extra API versions would see it."""
    options = {
        "name": release,
        "namespace": namespace,
        "is_install": True,
        "api_versions": list(api_versions),
        "kube_version": kube_version,
    }
    with helm_python.Chart.load(CHART) as chart:
        # Chart.render has no parameter for the capabilities; the engine takes them.
        raw = _native.call_string(
            "helm_render", chart._raw(), json.dumps(values or {}), json.dumps(options)
        )
    rendered: dict[str, str] = json.loads(raw)
    manifests = []
    for template, text in sorted(rendered.items()):
        if not template.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                manifests.append(Manifest(template, doc))
    return manifests


def notes(values: dict[str, Any] | None = None, **kwargs: Any) -> str:
    with helm_python.Chart.load(CHART) as chart:
        rendered = chart.render(values or {}, name="llmops", namespace="llmops", **kwargs)
    return next(text for path, text in rendered.items() if path.endswith("NOTES.txt"))


def find(manifests: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    """The one object of this kind (and name)."""
    found = [m for m in manifests if m.kind == kind and name in (None, m.name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {[str(m) for m in found]}"
    return found[0]


def gateway_config_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON schema of ``gateway.config``: the gateway's settings model without the keys
    the chart sets, and the definitions it refers to."""
    schema = copy.deepcopy(GatewaySettings.model_json_schema())
    defs = schema.pop("$defs", {})
    for key in CHART_SET_GATEWAY_KEYS:
        schema["properties"].pop(key, None)
    schema["additionalProperties"] = False
    schema["description"] = (
        "The gateway's settings (docs/gateway.md); the chart sets the listener, database, "
        "Redis, secrets and routes file."
    )
    return schema, defs


def _without_extensions(node: Any) -> Any:
    """An OpenAPI schema without Kubernetes' ``x-kubernetes-*`` extensions."""
    if isinstance(node, dict):
        return {k: _without_extensions(v) for k, v in node.items() if not k.startswith("x-")}
    if isinstance(node, list):
        return [_without_extensions(v) for v in node]
    return node


def model_deployment_spec_schema() -> dict[str, Any]:
    """The schema of ``defaultModelDeployment.spec``: the CRD's, closed to unknown fields
    (the API server would prune them silently)."""
    crd = yaml.safe_load((CRDS / "modeldeployments.yaml").read_text())
    version = next(v for v in crd["spec"]["versions"] if v["storage"])
    spec: dict[str, Any] = _without_extensions(
        version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    )

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                close(value)

    close(spec)
    return spec


def generated_defs() -> dict[str, Any]:
    config, defs = gateway_config_schema()
    return {**defs, "gatewayConfig": config, "modelDeploymentSpec": model_deployment_spec_schema()}


def write_generated_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    generated = generated_defs()
    schema["$defs"] = {
        **{k: v for k, v in schema["$defs"].items() if k not in generated},
        **generated,
    }
    SCHEMA.write_text(json.dumps(schema, indent=2) + "\n")


if __name__ == "__main__":
    write_generated_schema()
    sys.stdout.write(f"wrote {SCHEMA.relative_to(ROOT)}\n")
