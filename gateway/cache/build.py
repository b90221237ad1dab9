"""Building the response cache its settings describe (at start-up, in the lifespan)."""

from __future__ import annotations

import asyncio

from gateway.cache.base import CacheStore
from gateway.cache.embedding import MINILM_DIMENSIONS, BatchingEmbedder, Embedder, load_minilm
from gateway.cache.memory import MemoryCacheStore
from gateway.cache.redis import RedisCacheStore
from gateway.cache.service import ResponseCache
from gateway.metrics import GatewayMetrics
from gateway.settings import CacheSettings, GatewaySettings
from gateway.supervision import Supervisor


async def minilm_embedder(settings: CacheSettings) -> BatchingEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded off the event loop (about 2 s)."""
    encode = await asyncio.to_thread(load_minilm, settings.embedding_threads)
    return BatchingEmbedder(
        encode, dimensions=MINILM_DIMENSIONS, max_batch=settings.embedding_batch
    )


def store_for(
    settings: GatewaySettings, dimensions: int, supervisor: Supervisor | None = None
) -> CacheStore:
    cache = settings.cache
    if cache.store == "redis":
        assert settings.redis_url is not None  # the settings refuse it otherwise
        return RedisCacheStore(
            settings.redis_url,
            dimensions=dimensions,
            longest_ttl_seconds=max([cache.ttl_seconds, *cache.ttl_seconds_by_team.values()]),
            max_bytes=cache.max_bytes,
            max_entries=cache.max_entries,
            max_entries_per_namespace=cache.max_entries_per_namespace,
            mirror_max_entries=cache.mirror_max_entries,
            timeout=cache.store_timeout_seconds,
            supervisor=supervisor,
        )
    return MemoryCacheStore(
        dimensions=dimensions,
        max_bytes=cache.max_bytes,
        max_entries_per_namespace=cache.max_entries_per_namespace,
    )


async def response_cache(
    settings: GatewaySettings,
    metrics: GatewayMetrics,
    embedder: Embedder | None,
    supervisor: Supervisor | None = None,
) -> ResponseCache:
    """The cache, its store started; the embedder given, or the bundled one loaded."""
    owned = settings.cache.semantic and embedder is None
    if owned:
        embedder = await minilm_embedder(settings.cache)
    dimensions = embedder.dimensions if embedder is not None else MINILM_DIMENSIONS
    cache = ResponseCache(
        settings=settings.cache,
        store=store_for(settings, dimensions, supervisor),
        embedder=embedder,
        metrics=metrics,
        owns_embedder=owned,
    )
    await cache.start()
    return cache
