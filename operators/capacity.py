"""Free GPUs per node pool, from the cluster's nodes and pods (plain data in, plain data out).

The handlers keep kopf indices of nodes, pods and the workloads this operator placed;
:func:`pool_capacities` turns a snapshot of them into what :mod:`placement` reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from operators.config import NodePool
from operators.placement import PoolCapacity

GPU = "nvidia.com/gpu"


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    labels: Mapping[str, str]
    gpus: int


@dataclass(frozen=True, slots=True)
class PodLoad:
    """GPUs a non-terminated pod requests on the node it is bound to."""

    node: str
    gpus: int


@dataclass(frozen=True, slots=True)
class Reservation:
    """A workload placed on a pool whose pods are not bound yet (held against the pool)."""

    key: str
    pool: str
    gpus_per_node: int
    nodes: int


def quantity(value: Any) -> int:
    """A GPU quantity (``"2"``, ``2``, ``"2000m"``) as whole GPUs."""
    text = str(value).strip()
    if text.endswith("m"):
        return int(text[:-1]) // 1000
    return int(float(text))


def node_info(name: str, labels: Mapping[str, str] | None, status: Mapping[str, Any]) -> NodeInfo:
    allocatable = status.get("allocatable") or {}
    return NodeInfo(name, dict(labels or {}), quantity(allocatable.get(GPU, 0)))


def pod_gpus(spec: Mapping[str, Any]) -> int:
    """GPUs a pod requests: its containers' sum, or its largest init container if more."""

    def requested(container: Mapping[str, Any]) -> int:
        resources = container.get("resources") or {}
        value = (resources.get("requests") or {}).get(GPU) or (resources.get("limits") or {}).get(
            GPU
        )
        return quantity(value) if value is not None else 0

    running = sum(requested(c) for c in spec.get("containers") or [])
    init = max((requested(c) for c in spec.get("initContainers") or []), default=0)
    return max(running, init)


def pod_load(spec: Mapping[str, Any], status: Mapping[str, Any]) -> PodLoad | None:
    """The load a pod puts on its node, or ``None`` when it holds nothing."""
    node = spec.get("nodeName")
    if not node or status.get("phase") in ("Succeeded", "Failed"):
        return None
    gpus = pod_gpus(spec)
    return PodLoad(node, gpus) if gpus else None


def _matches(labels: Mapping[str, str], selector: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def pool_capacities(
    pools: Sequence[NodePool],
    nodes: Iterable[NodeInfo],
    loads: Iterable[PodLoad],
    reservations: Iterable[Reservation],
) -> list[PoolCapacity]:
    """Each pool's free GPUs per node, reservations taken from the freest nodes first."""
    used: dict[str, int] = {}
    for load in loads:
        used[load.node] = used.get(load.node, 0) + load.gpus
    members: dict[str, list[int]] = {p.name: [] for p in pools}
    for node in nodes:
        for pool in pools:
            if _matches(node.labels, pool.node_selector):
                members[pool.name].append(max(0, node.gpus - used.get(node.name, 0)))
                break
    for r in reservations:
        free = members.get(r.pool)
        if free is None:
            continue
        for _ in range(r.nodes):
            free.sort(reverse=True)
            if free:
                free[0] = max(0, free[0] - r.gpus_per_node)
    return [PoolCapacity(p.name, p.gpu_type, p.priority, tuple(members[p.name])) for p in pools]
