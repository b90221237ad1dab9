"""The gateway's routes (the ``llmops-routes`` ConfigMap): one model route per
ModelDeployment, its stable and canary versions weighted by the canary's share.

Each item has exactly the gateway's ``ModelRoute`` shape (``name``, ``versions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from operators import labels

KEY = "routes.yaml"


def model_route(
    name: str, endpoint: str, stable: str, canary: str | None, canary_weight: int
) -> dict[str, Any]:
    """The route of one deployment: ``endpoint`` is the Serve service's base URL."""

    def version(v: str, weight: float) -> dict[str, Any]:
        return {"version": v, "weight": weight, "upstreams": [f"{endpoint}/{name}/v{v}/v1"]}

    if canary is None or canary == stable or canary_weight <= 0:
        return {"name": name, "versions": [version(stable, 1.0)]}
    if canary_weight >= 100:
        return {"name": name, "versions": [version(canary, 1.0)]}
    return {
        "name": name,
        "versions": [
            version(stable, float(100 - canary_weight)),
            version(canary, float(canary_weight)),
        ],
    }


def document(routes: Iterable[Mapping[str, Any]]) -> str:
    """The ``routes.yaml`` text: routes sorted by name so equal content is equal text."""
    models = sorted((dict(r) for r in routes), key=lambda r: str(r["name"]))
    return yaml.safe_dump({"models": models}, sort_keys=False)


def config_map(name: str, namespace: str, text: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                labels.MANAGED_BY: labels.MANAGER,
                labels.PART_OF: "llmops",
                labels.COMPONENT: "routes",
            },
        },
        "data": {KEY: text},
    }
