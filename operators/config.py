"""The operator's configuration: the YAML file the chart renders (every key optional).

Built once by ``llmops operator run`` and passed down; nothing deeper reads the
environment or the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llmops import settings as core_settings


class _Camel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Toleration(_Camel):
    key: str | None = None
    operator: str = "Equal"
    value: str | None = None
    effect: str | None = None

    def manifest(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class NodePool(_Camel):
    """A GPU node pool: how its nodes are found and how pods tolerate its taints."""

    name: Annotated[str, Field(min_length=1)]
    gpu_type: Annotated[str, Field(alias="gpuType", min_length=1)]
    node_selector: Annotated[dict[str, str], Field(alias="nodeSelector", min_length=1)]
    tolerations: list[Toleration] = Field(default_factory=list)
    gpus_per_node: Annotated[int, Field(alias="gpusPerNode", ge=0)] = 8
    priority: int = 0


class KueueConfig(_Camel):
    enabled: bool = False
    default_queue: Annotated[str, Field(alias="defaultQueue", min_length=1)] = "llmops"


class RoutesConfig(_Camel):
    config_map: Annotated[str, Field(alias="configMap", min_length=1)] = "llmops-routes"
    namespace: str | None = None
    """Where the routes ConfigMap lives (default: the operator's namespace)."""
    serve_port: Annotated[int, Field(alias="servePort", ge=1, le=65535)] = 8000


class MlflowConfig(_Camel):
    tracking_uri: Annotated[str, Field(alias="trackingUri")] = "http://llmops-mlflow:5000"


class ImagesConfig(_Camel):
    serving: str = "ghcr.io/llmops/serving:0.1.0"
    serving_cpu: Annotated[str, Field(alias="servingCpu")] = "ghcr.io/llmops/serving-cpu:0.1.0"
    trainer: str = "ghcr.io/llmops/trainer:0.1.0"
    ray: str = "rayproject/ray:2.60.0"


class TimingConfig(_Camel):
    """How often the operator looks again (seconds)."""

    alias_poll_seconds: Annotated[float, Field(alias="aliasPollSeconds", gt=0)] = 30.0
    pending_retry_seconds: Annotated[float, Field(alias="pendingRetrySeconds", gt=0)] = 15.0


class DriftCheckConfig(_Camel):
    """What a DriftMonitor's check needs from the installation."""

    env: list[dict[str, Any]] = Field(default_factory=list)
    """Container env entries added to every check (e.g. ``LLMOPS_DRIFT__DATABASE_URL``
    from a Secret: the request log lives in the gateway's database). Secret references
    resolve in the DriftMonitor's namespace."""


class KubernetesConfig(_Camel):
    """How the operator reaches the API server: in the cluster (service account) or via
    kubeconfig by default; ``server`` names one directly (tests, port-forwards)."""

    server: str | None = None
    insecure: bool = False
    post_events: Annotated[bool, Field(alias="postEvents")] = True
    """Post Kubernetes Events about the objects handled (``kubectl describe`` shows them)."""


class OperatorConfig(_Camel):
    kueue: KueueConfig = KueueConfig()
    routes: RoutesConfig = RoutesConfig()
    mlflow: MlflowConfig = MlflowConfig()
    images: ImagesConfig = ImagesConfig()
    node_pools: list[NodePool] = Field(alias="nodePools", default_factory=list)
    timing: TimingConfig = TimingConfig()
    drift_check: Annotated[DriftCheckConfig, Field(alias="driftCheck")] = DriftCheckConfig()
    kubernetes: KubernetesConfig = KubernetesConfig()
    namespace: str | None = None
    """Watch this namespace only (default: all namespaces)."""
    operator_namespace: Annotated[str, Field(alias="operatorNamespace")] = "llmops"
    metrics_port: Annotated[int, Field(alias="metricsPort", ge=0, le=65535)] = 9090
    """Port of ``/metrics``; 0 turns the endpoint off."""

    @field_validator("node_pools")
    @classmethod
    def _unique_pools(cls, pools: list[NodePool]) -> list[NodePool]:
        names = [p.name for p in pools]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"node pool names must be unique, repeated: {', '.join(repeated)}")
        return pools

    def pool(self, name: str) -> NodePool | None:
        return next((p for p in self.node_pools if p.name == name), None)

    @property
    def routes_namespace(self) -> str:
        return self.routes.namespace or self.operator_namespace


def load(path: Path | None, **overrides: object) -> OperatorConfig:
    """The configuration from a YAML file, ``LLMOPS_`` variables and command-line overrides."""
    return core_settings.load(OperatorConfig, path, overrides=overrides)
