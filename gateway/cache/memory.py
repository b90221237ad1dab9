"""Entries kept in this process: right for one gateway replica, and the default.

One least-recently-used order across namespaces bounds the bytes of all entries
(texts, answers, vectors and their graph links); each namespace is also bounded
in entries. Expired entries are dropped when met, and from the cold end of the
order on every write, so nothing outlives its time to live for long. Erasure walks
all entries (a subject's are few, and erasures rare).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from gateway.cache.base import Entry
from gateway.cache.embedding import Vector
from gateway.cache.index import VectorIndex

SWEEP_PER_WRITE = 8


class MemoryCacheStore:
    def __init__(
        self,
        *,
        dimensions: int,
        max_bytes: int,
        max_entries_per_namespace: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dimensions = dimensions
        self._max_bytes = max_bytes
        self._max_per_namespace = max_entries_per_namespace
        self._clock = clock
        self._lru: OrderedDict[tuple[str, str], tuple[Entry, int]] = OrderedDict()
        """(namespace, key) to the entry and its accounted bytes, least recently used first."""
        self._indexes: dict[str, VectorIndex] = {}
        self._counts: dict[str, int] = {}
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._lru)

    async def get(self, namespace: str, key: str) -> Entry | None:
        found = self._lru.get((namespace, key))
        if found is None:
            return None
        entry = found[0]
        if self._expired(entry):
            self._drop(namespace, key)
            return None
        self._lru.move_to_end((namespace, key))
        return entry

    async def similar(self, namespace: str, vector: Vector, count: int) -> list[tuple[str, float]]:
        index = self._indexes.get(namespace)
        return index.search(vector, count) if index is not None else []

    async def put(self, entry: Entry, vector: Vector | None) -> None:
        where = (entry.namespace, entry.key)
        if where in self._lru:
            self._drop(*where)
        size = entry.size()
        if vector is not None:
            index = self._indexes.get(entry.namespace)
            if index is None:
                index = self._indexes[entry.namespace] = VectorIndex(self._dimensions)
            index.add(entry.key, vector)
            size += index.bytes_per_entry
        if size > self._max_bytes:
            self._drop(*where)
            return
        self._lru[where] = (entry, size)
        self.bytes += size
        self._counts[entry.namespace] = self._counts.get(entry.namespace, 0) + 1
        self._evict(entry.namespace)

    def _evict(self, namespace: str) -> None:
        for _ in range(SWEEP_PER_WRITE):
            oldest = next(iter(self._lru.items()), None)
            if oldest is None or not self._expired(oldest[1][0]):
                break
            self._drop(*oldest[0])
        while self.bytes > self._max_bytes:
            self._drop(*next(iter(self._lru)))
        if self._counts.get(namespace, 0) > self._max_per_namespace:
            # The namespace's own least recently used entry (usually near the cold end).
            victim = next(k for k in self._lru if k[0] == namespace)
            self._drop(*victim)

    def _drop(self, namespace: str, key: str) -> None:
        found = self._lru.pop((namespace, key), None)
        index = self._indexes.get(namespace)
        if index is not None:
            index.remove(key)
        if found is None:
            return
        self.bytes -= found[1]
        left = self._counts[namespace] - 1
        if left:
            self._counts[namespace] = left
        else:
            del self._counts[namespace]
            self._indexes.pop(namespace, None)

    def _expired(self, entry: Entry) -> bool:
        return self._clock() - entry.created >= entry.ttl

    async def forget(self, subject: str, *, dry_run: bool = False) -> int:
        found = [
            where
            for where, (entry, _) in self._lru.items()
            if subject in entry.subjects and not self._expired(entry)
        ]
        if not dry_run:
            for where in found:
                self._drop(*where)
        return len(found)

    async def start(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._lru.clear()
        self._indexes.clear()
        self._counts.clear()
        self.bytes = 0
