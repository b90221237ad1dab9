"""The cache-store seam: entries, and what a store is asked.

A store keeps entries by namespace and key, expires them after their time to
live, evicts the least recently used under its bounds, and finds the entries
nearest to a vector within one namespace. It never looks across namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.cache.embedding import Vector

ENTRY_OVERHEAD_BYTES = 360
"""What an entry costs beyond its texts and vector (objects, dictionaries), estimated."""


class CacheStoreError(Exception):
    """The store could not be reached or answered badly; the cache then stands aside."""


@dataclass(frozen=True, slots=True)
class Entry:
    namespace: str
    key: str
    """The exact key of the request that made it (unique within the namespace)."""
    scope: str
    """Whose answer this is (``team:<name>`` or ``shared:<model>``), checked again on a hit."""
    text: str
    """The last message it answered ("" when only the exact tier may use it)."""
    response: bytes
    """The JSON body, or the stream's events as the replica sent them."""
    stream: bool
    version: str
    """The model version that answered, as reported in ``x-llmops-model-version``."""
    created: float
    """Wall-clock seconds when it was stored."""
    ttl: float
    """Seconds it may live (the asking team's retention, or the cache's)."""
    subjects: tuple[str, ...] = ()
    """Whose question it answers, as erasure names them: ``team:<name>``, ``key:<id>`` and,
    when the client named one, ``user:<keyed hash>``."""

    def size(self) -> int:
        return (
            ENTRY_OVERHEAD_BYTES
            + len(self.response)
            + len(self.text.encode())
            + sum(len(s) for s in self.subjects)
        )


class CacheStore(Protocol):
    async def get(self, namespace: str, key: str) -> Entry | None:
        """The live entry under ``key``, marked as recently used."""
        ...

    async def similar(self, namespace: str, vector: Vector, count: int) -> list[tuple[str, float]]:
        """Up to ``count`` keys of entries nearest to ``vector`` (unit length), with their
        cosine similarity, most similar first. Keys may name entries gone since."""
        ...

    async def put(self, entry: Entry, vector: Vector | None) -> None:
        """Store ``entry`` (searchable by ``vector`` when given), evicting what its bounds need."""
        ...

    async def forget(self, subject: str, *, dry_run: bool = False) -> int:
        """Delete every live entry whose ``subjects`` hold ``subject`` (count them only, with
        ``dry_run``); how many. Every replica stops serving them at once."""
        ...

    async def start(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
