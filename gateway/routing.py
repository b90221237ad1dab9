"""Choosing a replica for a request: least outstanding requests, ties in turn."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field


@dataclass(slots=True)
class Replica:
    url: str
    outstanding: int = 0


@dataclass(slots=True)
class ReplicaPool:
    """The replicas of one model and the requests each has in flight from this gateway."""

    model: str
    replicas: list[Replica]
    version: str | None = None
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    @classmethod
    def of(cls, model: str, urls: list[str], version: str | None = None) -> ReplicaPool:
        return cls(model=model, replicas=[Replica(u) for u in urls], version=version)

    def pick(self) -> Replica:
        return least_outstanding(self.replicas, next(self._turn))


def least_outstanding(replicas: list[Replica], turn: int) -> Replica:
    """The replica with the fewest requests in flight; among equals, the next in turn."""
    n = len(replicas)
    best = replicas[turn % n]
    for i in range(1, n):
        candidate = replicas[(turn + i) % n]
        if candidate.outstanding < best.outstanding:
            best = candidate
    return best
