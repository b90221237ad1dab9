"""A ModelDeployment as a KubeRay ``RayService``: our serving app in ``serveConfigV2``.

One Ray Serve application per served version (the stable one, and the canary's when
there is one), each at its own route prefix, built by
``llmops.serving.ray_app:app_from_args`` from the replica settings in ``args``. GPU
workers run on the chosen node pool (its node selector and tolerations, whole GPUs as
``nvidia.com/gpu`` limits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from operators import labels
from operators.config import NodePool, OperatorConfig

KIND = "ModelDeployment"
IMPORT_PATH = "llmops.serving.ray_app:app_from_args"
GPU = "nvidia.com/gpu"


@dataclass(frozen=True, slots=True)
class ServedVersion:
    version: str
    role: str
    """``stable`` or ``canary``."""


def served_name(spec: Mapping[str, Any]) -> str:
    return str(spec.get("servedName") or spec["model"])


def route_prefix(spec: Mapping[str, Any], version: str) -> str:
    return f"/{served_name(spec)}/v{version}"


def service_name(owner: str) -> str:
    return labels.child_name(owner, "serve", limit=40)


def endpoint(owner: str, namespace: str, port: int) -> str:
    """KubeRay's Serve service of the RayService (``<name>-serve-svc``)."""
    return f"http://{service_name(owner)}-serve-svc.{namespace}.svc:{port}"


def application(spec: Mapping[str, Any], served: ServedVersion) -> dict[str, Any]:
    """One Serve application: the replica settings of ``llmops.serving.settings``."""
    engine = spec.get("engine", "vllm")
    gpus = int(spec.get("gpusPerReplica", 1)) if engine == "vllm" else 0
    scaling = spec.get("replicas") or {}
    args: dict[str, Any] = {
        "engine": engine,
        "model": served_name(spec),
        "source": f"models:/{spec['model']}/{served.version}",
        "version": served.version,
        "host": "0.0.0.0",  # noqa: S104 (inside the pod, behind the Serve service)
        "route_prefix": route_prefix(spec, served.version),
        "autoscaling": {
            "min_replicas": int(scaling.get("min", 1)),
            "max_replicas": int(scaling.get("max", 1)),
            "target_ongoing_requests": float(scaling.get("targetOngoingRequests", 8)),
        },
        "ray": {"replica_num_cpus": 1.0, "replica_num_gpus": float(gpus)},
    }
    if engine == "vllm":
        args["vllm"] = {"tensor_parallel_size": max(1, gpus)}
    if spec.get("maxModelLen"):
        args["max_model_len"] = int(spec["maxModelLen"])
    return {
        "name": f"{served_name(spec)}-v{served.version}".replace("/", "-"),
        "import_path": IMPORT_PATH,
        "route_prefix": route_prefix(spec, served.version),
        "args": args,
    }


def serve_config(spec: Mapping[str, Any], versions: list[ServedVersion], tracking_uri: str) -> str:
    config = {
        "http_options": {"host": "0.0.0.0", "port": 8000},  # noqa: S104
        "applications": [
            {
                **application(spec, v),
                "runtime_env": {"env_vars": {"MLFLOW_TRACKING_URI": tracking_uri}},
            }
            for v in versions
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)


def _worker(spec: Mapping[str, Any], pool: NodePool | None, image: str) -> dict[str, Any]:
    engine = spec.get("engine", "vllm")
    gpus = int(spec.get("gpusPerReplica", 1)) if engine == "vllm" else 0
    scaling = spec.get("replicas") or {}
    resources: dict[str, Any] = {
        "requests": {"cpu": "4", "memory": "16Gi"},
        "limits": {"memory": "16Gi"},
    }
    if gpus:
        resources["requests"][GPU] = str(gpus)
        resources["limits"][GPU] = str(gpus)
    pod: dict[str, Any] = {
        "containers": [{"name": "ray-worker", "image": image, "resources": resources}]
    }
    if pool is not None:
        pod["nodeSelector"] = dict(pool.node_selector)
        pod["tolerations"] = [t.manifest() for t in pool.tolerations]
    low, high = int(scaling.get("min", 1)), int(scaling.get("max", 1))
    return {
        "groupName": "gpu" if gpus else "cpu",
        "replicas": max(low, 1),
        "minReplicas": low,
        "maxReplicas": max(high, 1),
        "rayStartParams": {},
        "template": {"spec": pod},
    }


def render(
    body: Mapping[str, Any],
    config: OperatorConfig,
    versions: list[ServedVersion],
    pool: NodePool | None,
) -> dict[str, Any]:
    """The RayService serving ``versions`` of ``body``'s model."""
    meta = body["metadata"]
    spec = body["spec"]
    image = (
        config.images.serving if spec.get("engine", "vllm") == "vllm" else config.images.serving_cpu
    )
    extra = {labels.NODE_POOL: pool.name} if pool is not None else {}
    head = {
        "containers": [
            {
                "name": "ray-head",
                "image": image,
                "resources": {
                    "requests": {"cpu": "2", "memory": "8Gi"},
                    "limits": {"memory": "8Gi"},
                },
                "ports": [
                    {"containerPort": 6379, "name": "gcs"},
                    {"containerPort": 8265, "name": "dashboard"},
                    {"containerPort": 8000, "name": "serve"},
                ],
            }
        ]
    }
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {
            "name": service_name(meta["name"]),
            "namespace": meta["namespace"],
            "labels": labels.ours(KIND, meta["name"], "serving", **extra),
            "ownerReferences": [labels.owner_reference(body)],
        },
        "spec": {
            "serveConfigV2": serve_config(spec, versions, config.mlflow.tracking_uri),
            "rayClusterConfig": {
                "rayVersion": config.images.ray.rpartition(":")[2] or "2.60.0",
                "enableInTreeAutoscaling": True,
                "headGroupSpec": {
                    "rayStartParams": {"num-gpus": "0", "dashboard-host": "0.0.0.0"},  # noqa: S104
                    "template": {"spec": head},
                },
                "workerGroupSpecs": [_worker(spec, pool, image)],
            },
        },
    }
