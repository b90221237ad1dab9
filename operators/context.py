"""What the handlers share: built at start-up, kept in kopf's memo, never global."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from operators import capacity
from operators.config import OperatorConfig
from operators.kube import Kube
from operators.metrics import OperatorMetrics
from operators.registry import VersionResolver


@dataclass
class ClusterState:
    """Nodes, GPU loads of bound pods and workloads placed but not yet bound, kept current
    by the watch handlers (plain data for :func:`capacity.pool_capacities`)."""

    nodes: dict[str, capacity.NodeInfo] = field(default_factory=dict)
    pods: dict[str, capacity.PodLoad] = field(default_factory=dict)
    """Pod uid to its load."""
    bound_jobs: set[str] = field(default_factory=set)
    """``namespace/job`` of jobs with a pod bound to a node (their pods count instead)."""
    reservations: dict[str, capacity.Reservation] = field(default_factory=dict)

    def unbound_reservations(self) -> list[capacity.Reservation]:
        return [r for k, r in self.reservations.items() if k not in self.bound_jobs]


@dataclass
class Context:
    config: OperatorConfig
    kube: Kube
    resolver: VersionResolver
    metrics: OperatorMetrics
    cluster: ClusterState = field(default_factory=ClusterState)
    placement_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    routes_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    object_locks: defaultdict[str, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock)
    )
    """One lock per object: its timer, create and child-event handlers never interleave."""
