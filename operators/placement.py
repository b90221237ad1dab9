"""Where a workload goes: a pure decision over plain data.

A pool fits when its GPU type matches (or it is the pool asked for by name) and one
of its nodes has the GPUs a worker needs free, for every worker; among the pools that
fit, the highest priority wins, then the most free GPUs, then the name. Free GPUs of a
node are its allocatable ``nvidia.com/gpu`` minus what running pods (and workloads
placed but not yet running) request there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar


class _Pool(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def gpu_type(self) -> str: ...


P = TypeVar("P", bound=_Pool)


@dataclass(frozen=True, slots=True)
class PoolCapacity:
    """A node pool as placement sees it: its matching data and each node's free GPUs."""

    name: str
    gpu_type: str
    priority: int
    free_per_node: tuple[int, ...]

    @property
    def free(self) -> int:
        return sum(self.free_per_node)


@dataclass(frozen=True, slots=True)
class PlacementRequest:
    gpus_per_node: int
    nodes: int = 1
    gpu_type: str | None = None
    pool: str | None = None


@dataclass(frozen=True, slots=True)
class PlacementDecision:
    """A chosen pool, or ``None`` with the reason nothing fits."""

    pool: str | None
    reason: str
    message: str

    @property
    def placed(self) -> bool:
        return self.pool is not None


def eligible(pools: Sequence[P], request: PlacementRequest) -> list[P]:
    """The pools ``request`` may go to (anything with ``name`` and ``gpu_type``)."""
    if request.pool is not None:
        return [p for p in pools if p.name == request.pool]
    if request.gpu_type is not None:
        return [p for p in pools if p.gpu_type == request.gpu_type]
    return list(pools)


def fits(pool: PoolCapacity, request: PlacementRequest) -> bool:
    """Whether ``request.nodes`` workers of ``request.gpus_per_node`` GPUs each find nodes."""
    if request.gpus_per_node == 0:
        return bool(pool.free_per_node)
    workers = request.nodes
    for free in pool.free_per_node:
        workers -= free // request.gpus_per_node
        if workers <= 0:
            return True
    return False


def place(pools: Sequence[PoolCapacity], request: PlacementRequest) -> PlacementDecision:
    """The pool for ``request``, or why none fits."""
    candidates = eligible(pools, request)
    if not candidates:
        wanted = (
            f"node pool {request.pool!r}"
            if request.pool is not None
            else f"GPU type {request.gpu_type!r}"
        )
        return PlacementDecision(None, "NoMatchingPool", f"no node pool offers {wanted}")
    fitting = [p for p in candidates if fits(p, request)]
    if not fitting:
        best = max(candidates, key=lambda p: p.free)
        return PlacementDecision(
            None,
            "InsufficientCapacity",
            f"{request.nodes} node(s) x {request.gpus_per_node} GPU(s) do not fit in "
            f"{', '.join(sorted(p.name for p in candidates))} "
            f"(most free: {best.free} GPU(s) in {best.name})",
        )
    chosen = max(fitting, key=lambda p: (p.priority, p.free, _reverse(p.name)))
    return PlacementDecision(chosen.name, "Placed", f"placed on node pool {chosen.name}")


def _reverse(name: str) -> tuple[int, ...]:
    # Ties go to the name that sorts first (max() then picks the largest negated codes).
    return tuple(-ord(c) for c in name)
