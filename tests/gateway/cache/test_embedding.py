"""Embeddings: the bundled model offline, batched across concurrent requests, off the loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from gateway.cache.embedding import (
    MINILM_DIMENSIONS,
    BatchingEmbedder,
    CacheUnavailable,
    Encode,
)


async def test_the_bundled_model_embeds_meaning(minilm: Encode) -> None:
    embedder = BatchingEmbedder(minilm, dimensions=MINILM_DIMENSIONS)
    try:
        same, reworded, other = await embedder.embed_many(
            [
                "What is the capital of France?",
                "Which city is the capital of France?",
                "How do I bake sourdough bread?",
            ]
        )
    finally:
        await embedder.close()
    assert same.shape == (MINILM_DIMENSIONS,) and same.dtype == np.float32
    assert float(np.linalg.norm(same)) == pytest.approx(1.0, abs=1e-5)
    assert float(same @ reworded) > 0.9
    assert float(same @ other) < 0.3


async def test_concurrent_texts_share_batches_in_a_worker_thread() -> None:
    batches: list[int] = []
    threads: set[int] = set()
    release = threading.Event()

    def encode(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        threads.add(threading.get_ident())
        release.wait(5)  # the first batch is slow: the others queue up meanwhile
        batches.append(len(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    embedder = BatchingEmbedder(encode, dimensions=2, max_batch=8)
    first = asyncio.ensure_future(embedder.embed("a"))
    await asyncio.sleep(0.05)
    rest = asyncio.gather(*(embedder.embed("b" * n) for n in range(1, 13)))
    await asyncio.sleep(0.05)
    assert not first.done()  # the loop kept running while the model worked
    release.set()
    vectors = await rest
    await first
    await embedder.close()
    assert batches == [1, 8, 4]
    assert [int(v[0]) for v in vectors] == list(range(1, 13))
    assert threading.get_ident() not in threads


async def test_a_failing_model_fails_its_batch_not_the_embedder() -> None:
    calls = 0

    def encode(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("out of memory")
        return np.ones((len(texts), 2), dtype=np.float32)

    embedder = BatchingEmbedder(encode, dimensions=2)
    with pytest.raises(CacheUnavailable, match="out of memory"):
        await embedder.embed("a")
    assert (await embedder.embed("b")).tolist() == [1.0, 1.0]
    await embedder.close()
