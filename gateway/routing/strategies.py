"""How a replica is chosen among those available: pure functions over plain data."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Protocol, TypeVar


class HasLoad(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def outstanding(self) -> int: ...


R = TypeVar("R", bound=HasLoad)


def least_outstanding(replicas: Sequence[R], turn: int) -> R:
    """The replica with the fewest requests in flight; among equals, the next in turn."""
    n = len(replicas)
    best = replicas[turn % n]
    for i in range(1, n):
        candidate = replicas[(turn + i) % n]
        if candidate.outstanding < best.outstanding:
            best = candidate
    return best


def round_robin(replicas: Sequence[R], turn: int) -> R:
    return replicas[turn % len(replicas)]


def _score(key: str, url: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{key}\0{url}".encode(), digest_size=8).digest())


def rendezvous(replicas: Sequence[R], key: str) -> R:
    """Highest-random-weight hashing: the same key goes to the same replica, and when a
    replica leaves only the keys it held move (to spread evenly over the others)."""
    return max(replicas, key=lambda r: _score(key, r.url))


def draw_for(key: str | None, rng: random.Random) -> float:
    """A number in [0, 1): fixed for a key (a session keeps its canary side), else random."""
    if key is None:
        return rng.random()
    digest = hashlib.blake2b(key.encode(), digest_size=8, person=b"llmops-split").digest()
    return int.from_bytes(digest) / 2**64


def weighted_order(weights: Sequence[float], draw: float) -> list[int]:
    """Indexes of ``weights``: first the one ``draw`` falls on, then the rest by weight.

    The first is the split's choice; the others are where the request may go when the
    chosen version has no replica available.
    """
    total = sum(weights)
    chosen = len(weights) - 1
    point = draw * total
    for i, weight in enumerate(weights):
        if point < weight:
            chosen = i
            break
        point -= weight
    rest = sorted((i for i in range(len(weights)) if i != chosen), key=lambda i: -weights[i])
    return [chosen, *rest]
