"""The gateway's routes (the ``llmops-routes`` ConfigMap): one model route per
ModelDeployment, its stable and canary versions weighted by the canary's share, and its
shadow version when it has one.

Each item has exactly the gateway's ``ModelRoute`` shape (``name``, ``versions`` and,
when the deployment is priced, ``price``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from operators import labels

KEY = "routes.yaml"


# The ModelDeployment's ``spec.price`` fields and the route's ``price`` fields they become.
PRICE_FIELDS = (("input", "input"), ("cachedInput", "cached_input"), ("output", "output"))


def route_price(price: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The route's ``price`` from a ModelDeployment's ``spec.price``: the same decimal
    strings (prices per million tokens), ``cached_input`` only when given; ``None`` for
    an unpriced deployment."""
    if not price:
        return None
    return {
        route_key: str(price[spec_key])
        for spec_key, route_key in PRICE_FIELDS
        if price.get(spec_key) is not None
    }


def model_route(
    name: str,
    endpoint: str,
    stable: str,
    canary: str | None,
    canary_weight: int,
    *,
    price: Mapping[str, Any] | None = None,
    shadow: str | None = None,
    shadow_spec: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The route of one deployment: ``endpoint`` is the Serve service's base URL, ``price``
    the deployment's ``spec.price`` (the route has no ``price`` without it), ``shadow`` the
    version mirrored to as ``spec.shadow`` says (none: no shadow)."""

    def version(v: str, weight: float) -> dict[str, Any]:
        return {"version": v, "weight": weight, "upstreams": [f"{endpoint}/{name}/v{v}/v1"]}

    if canary is None or canary == stable or canary_weight <= 0:
        versions = [version(stable, 1.0)]
    elif canary_weight >= 100:
        versions = [version(canary, 1.0)]
    else:
        versions = [
            version(stable, float(100 - canary_weight)),
            version(canary, float(canary_weight)),
        ]
    route: dict[str, Any] = {"name": name, "versions": versions}
    share = float((shadow_spec or {}).get("share", 0))
    if shadow is not None and share > 0:
        route["shadow"] = {
            "version": shadow,
            "upstreams": version(shadow, 0.0)["upstreams"],
            "share": share,
            "max_in_flight": int((shadow_spec or {}).get("maxInFlight", 8)),
        }
    priced = route_price(price)
    if priced is not None:
        route["price"] = priced
    return route


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
