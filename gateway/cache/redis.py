"""Entries kept in Redis, shared by every gateway replica.

Redis holds the entries (with their time to live), a least-recently-used order
and their sizes, and a feed (a stream) of the vectors written. One Lua script
stores an entry and evicts what the bounds require. Each replica mirrors the
feed into its own vector index (:class:`~gateway.cache.index.VectorIndex`) by
tailing the stream with a blocking read, so a vector written through one replica
is searchable on the others within milliseconds; the search itself never leaves
the process, and a candidate is then read from Redis (which also tells whether
it is still alive). A replica that starts later reads the feed from its start
(bounded to ``max_entries`` vectors).

Each entry is also listed under its subjects (a set per team, key and end user), so
that erasing one deletes its entries in one step: every replica misses them from that
moment (entries are read from Redis), their vectors leave the feed, and a removal
record on the feed drops them from every mirror.

Keys live under ``llmops:cache:``; the script touches keys it derives from
member names, so it needs a single Redis (not Redis Cluster).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from gateway.cache.base import CacheStoreError, Entry
from gateway.cache.embedding import Vector
from gateway.cache.index import VectorIndex
from gateway.resp import LuaScript, RespConnection, RespError
from gateway.supervision import Supervisor

log = logging.getLogger("llmops.gateway.cache")

PREFIX = "llmops:cache:"
MAGIC = b"LC1"
FEED_BLOCK_MS = 250
FEED_BATCH = 512
_HERE = Path(__file__).parent


_ENTRIES = LuaScript(_HERE / "entries.lua")
_GET = LuaScript(_HERE / "get.lua")


def encode(entry: Entry) -> bytes:
    header = orjson.dumps(
        {
            "scope": entry.scope,
            "text": entry.text,
            "stream": entry.stream,
            "version": entry.version,
            "created": entry.created,
            "ttl": entry.ttl,
            "subjects": entry.subjects,
        }
    )
    return MAGIC + struct.pack(">I", len(header)) + header + entry.response


def decode(namespace: str, key: str, payload: bytes) -> Entry:
    if not payload.startswith(MAGIC) or len(payload) < 7:
        raise CacheStoreError("not a cache entry")
    (length,) = struct.unpack(">I", payload[3:7])
    header = orjson.loads(payload[7 : 7 + length])
    return Entry(
        namespace=namespace,
        key=key,
        scope=header["scope"],
        text=header["text"],
        response=payload[7 + length :],
        stream=header["stream"],
        version=header["version"],
        created=header["created"],
        ttl=header["ttl"],
        subjects=tuple(header["subjects"]),
    )


_ENTRY_KEYS = [PREFIX + k for k in ("lru", "size", "feed", "subjects", "records")]


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class _Mirror:
    """This replica's copy of the feed: one vector index per namespace, bounded."""

    def __init__(self, dimensions: int, max_entries: int, max_per_namespace: int) -> None:
        self._dimensions = dimensions
        self._max = max_entries
        self._max_per_namespace = max_per_namespace
        self._indexes: dict[str, VectorIndex] = {}
        self._order: OrderedDict[tuple[str, str], float] = OrderedDict()
        """(namespace, key) to expiry (epoch seconds), oldest first."""

    def __len__(self) -> int:
        return len(self._order)

    def add(self, namespace: str, key: str, vector: Vector, expires: float) -> None:
        if (namespace, key) in self._order:
            return
        index = self._indexes.get(namespace)
        if index is None:
            index = self._indexes[namespace] = VectorIndex(self._dimensions)
        if len(index) >= self._max_per_namespace:
            self.remove(namespace, next(k for n, k in self._order if n == namespace))
        index.add(key, vector)
        self._order[(namespace, key)] = expires
        now = time.time()
        while self._order:
            (ns, k), exp = next(iter(self._order.items()))
            if len(self._order) <= self._max and exp > now:
                break
            self.remove(ns, k)

    def remove(self, namespace: str, key: str) -> None:
        self._order.pop((namespace, key), None)
        index = self._indexes.get(namespace)
        if index is not None:
            index.remove(key)
            if not len(index):
                del self._indexes[namespace]

    def search(self, namespace: str, vector: Vector, count: int) -> list[tuple[str, float]]:
        index = self._indexes.get(namespace)
        return index.search(vector, count) if index is not None else []


class RedisCacheStore:
    def __init__(
        self,
        url: str,
        *,
        dimensions: int,
        longest_ttl_seconds: float,
        max_bytes: int,
        max_entries: int,
        max_entries_per_namespace: int,
        mirror_max_entries: int | None = None,
        timeout: float = 1.0,
        supervisor: Supervisor | None = None,
    ) -> None:
        self._supervisor = supervisor or Supervisor()
        self._redis = RespConnection(url, timeout=timeout)
        self._feed_redis = RespConnection(url, timeout=timeout + FEED_BLOCK_MS / 1000)
        self._dimensions = dimensions
        self._longest_ms = _ms(longest_ttl_seconds)
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        mirrored = min(max_entries, mirror_max_entries or max_entries)
        self._mirror = _Mirror(dimensions, mirrored, min(max_entries_per_namespace, mirrored))
        self._tail: asyncio.Task[None] | None = None
        self._feed_position = "0-0"
        self.synced = asyncio.Event()
        """Set once the feed has been read up to its end (the mirror has caught up)."""

    async def start(self) -> None:
        self._tail = self._supervisor.spawn("cache feed follower", self._follow_feed)

    async def get(self, namespace: str, key: str) -> Entry | None:
        member = f"{namespace}:{key}"
        payload = await self._run(_GET, [PREFIX + "e:" + member, PREFIX + "lru"], [member])
        if payload is None:
            self._mirror.remove(namespace, key)
            return None
        return decode(namespace, key, payload)

    async def similar(self, namespace: str, vector: Vector, count: int) -> list[tuple[str, float]]:
        return self._mirror.search(namespace, vector, count)

    async def put(self, entry: Entry, vector: Vector | None) -> None:
        member = f"{entry.namespace}:{entry.key}"
        raw_vector = b"" if vector is None else np.asarray(vector, dtype=np.float32).tobytes()
        ttl_ms = _ms(entry.ttl)
        await self._run(
            _ENTRIES,
            _ENTRY_KEYS,
            [
                "put", PREFIX, member, encode(entry), ttl_ms, max(ttl_ms, self._longest_ms),
                self._max_bytes, self._max_entries, entry.namespace, entry.key, raw_vector,
                *entry.subjects,
            ],
        )  # fmt: skip
        if vector is not None:
            self._mirror.add(entry.namespace, entry.key, vector, time.time() + ttl_ms / 1000)

    async def forget(self, subject: str, *, dry_run: bool = False) -> int:
        args = ["forget", PREFIX, subject, "1" if dry_run else "0"]
        return int(await self._run(_ENTRIES, _ENTRY_KEYS, args))

    async def ping(self) -> None:
        try:
            await self._redis.call("PING")
        except RespError as e:
            raise CacheStoreError(f"cache store unreachable: {e}") from e

    async def close(self) -> None:
        if self._tail is not None:
            self._tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tail
        await self._feed_redis.close()
        await self._redis.close()

    async def _follow_feed(self) -> None:
        failures = 0
        while True:
            try:
                reply = await self._feed_redis.call(
                    "XREAD", "COUNT", FEED_BATCH, "BLOCK", FEED_BLOCK_MS,
                    "STREAMS", PREFIX + "feed", self._feed_position,
                )  # fmt: skip
                failures = 0
            except RespError as e:
                failures += 1
                if failures == 1:
                    log.warning("cache feed unreachable", extra={"error": str(e)})
                await asyncio.sleep(min(2.0, 0.1 * 2**failures))
                continue
            if reply is None:
                self.synced.set()
                continue
            for _, records in reply:
                self._apply(records)
            if len(reply[0][1]) < FEED_BATCH:
                self.synced.set()

    def _apply(self, records: list[Any]) -> None:
        now = time.time()
        for position, fields in records:
            self._feed_position = position.decode()
            values = dict(zip(fields[::2], fields[1::2], strict=True))
            if b"del" in values:
                self._mirror.remove(values[b"ns"].decode(), values[b"key"].decode())
                continue
            expires = int(values[b"exp"]) / 1000
            vector = np.frombuffer(values[b"v"], dtype=np.float32)
            if expires <= now or vector.shape != (self._dimensions,):
                continue
            self._mirror.add(values[b"ns"].decode(), values[b"key"].decode(), vector, expires)

    async def _run(self, script: LuaScript, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script.run(self._redis, keys, args)
        except RespError as e:
            raise CacheStoreError(f"cache store unreachable: {e}") from e
