"""The embedding engine's encode loop: one thread that tokenizes requests and encodes batches.

A new job is tokenized first: a text over the model's length refuses the whole
request (a 400) before any of it is encoded, as OpenAI refuses over-long input
rather than truncate it. Then the loop encodes batches of up to ``batch_size``
texts drawn from the waiting jobs in turn, so a request for one text waits for one
batch, not for the thousands of texts of a request ahead of it. The tokenizer and
the model are used on this thread only (a fast tokenizer shared between threads
can fail). A job whose consumer went away is dropped before the next batch;
outcomes reach each consumer through the callback the engine gave its job.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from llmops.serving.embedding import EmbeddingRequest, Embeddings, Vectors
from llmops.serving.engine import EngineStats, Usage
from llmops.serving.errors import EngineUnavailable, InvalidGenerationRequest, ServingError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

Outcome = Embeddings | ServingError
"""What a job's consumer receives: its embeddings, or the error that ended it."""


@dataclass(eq=False)
class EncodeJob:
    """One request inside the encode loop."""

    request: EmbeddingRequest
    deliver: Callable[[Outcome], None]
    """Hands the outcome to the consumer; must not block (it crosses threads)."""
    cancelled: bool = False
    """Set by the consumer's side when it goes away; the loop drops the job before its next batch."""
    vectors: Vectors = field(default_factory=lambda: np.empty((0, 0), dtype=np.float32))
    tokens: int = 0
    next_text: int = 0
    encoded: int = 0


@dataclass
class _Counters:
    largest_batch: int = 0
    batches: int = 0
    requests_finished: int = 0
    requests_abandoned: int = 0


class EncodeLoop:
    """Runs on its own thread (:meth:`run`); fed through :meth:`submit`, ended by :meth:`stop`."""

    def __init__(
        self, model: SentenceTransformer, *, dimensions: int, max_tokens: int, batch_size: int
    ) -> None:
        self._model = model
        self._dimensions = dimensions
        self._max_tokens = max_tokens
        self._batch_size = batch_size
        self._inbox: queue.SimpleQueue[EncodeJob | None] = queue.SimpleQueue()
        self._active: list[EncodeJob] = []
        self._counters = _Counters()
        self._stopping = threading.Event()

    def submit(self, job: EncodeJob) -> None:
        if self._stopping.is_set():
            raise EngineUnavailable("the engine is closed")
        self._inbox.put(job)

    def stop(self) -> None:
        self._stopping.set()
        self._inbox.put(None)  # wakes an idle loop

    def stats(self) -> EngineStats:
        c = self._counters
        return EngineStats(
            requests_running=len(self._active),
            requests_waiting=self._inbox.qsize(),
            largest_batch=c.largest_batch,
            decode_steps=c.batches,
            requests_finished=c.requests_finished,
            requests_abandoned=c.requests_abandoned,
        )

    def run(self) -> None:
        """The thread's body: loops until :meth:`stop`, then fails what is left."""
        with torch.inference_mode():
            while not self._stopping.is_set():
                try:
                    self._admit(block=not self._active)
                    self._drop_cancelled()
                    if self._active:
                        self._encode_batch()
                except Exception as e:
                    log.exception("encoding failed; the waiting requests end with an error")
                    self._fail(ServingError(f"embedding failed: {e}"))
        closed = EngineUnavailable("the engine is closed")
        self._fail(closed)
        while True:
            try:
                job = self._inbox.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job.deliver(closed)

    def _admit(self, *, block: bool) -> None:
        """Tokenize the jobs submitted since the last batch; those within bounds join."""
        while True:
            try:
                job = self._inbox.get() if block else self._inbox.get_nowait()
            except queue.Empty:
                return
            block = False
            if job is None:
                continue
            if job.cancelled:
                self._counters.requests_abandoned += 1
                continue
            self._active.append(job)  # from here a failure of the loop reaches it too
            if not self._fits(job):
                self._active.remove(job)

    def _fits(self, job: EncodeJob) -> bool:
        """Count ``job``'s tokens; whether every text fits (if not, the job is refused)."""
        texts = list(job.request.texts)
        ids = self._model.tokenizer(texts, add_special_tokens=True, verbose=False)["input_ids"]
        for index, text_ids in enumerate(ids):
            if len(text_ids) > self._max_tokens:
                job.deliver(
                    InvalidGenerationRequest(
                        f"{job.request.param(index)} is {len(text_ids)} tokens; this model "
                        f"takes at most {self._max_tokens}",
                        param=job.request.param(index),
                    )
                )
                return False
        job.tokens = sum(len(text_ids) for text_ids in ids)
        job.vectors = np.empty((len(texts), self._dimensions), dtype=np.float32)
        return True

    def _drop_cancelled(self) -> None:
        left = [job for job in self._active if not job.cancelled]
        self._counters.requests_abandoned += len(self._active) - len(left)
        self._active = left

    def _pick(self) -> list[tuple[EncodeJob, int]]:
        """The next batch: one text from each job in turn, until the batch is full."""
        picked: list[tuple[EncodeJob, int]] = []
        while len(picked) < self._batch_size:
            before = len(picked)
            for job in self._active:
                if job.next_text < len(job.request.texts) and len(picked) < self._batch_size:
                    picked.append((job, job.next_text))
                    job.next_text += 1
            if len(picked) == before:
                break
        return picked

    def _encode_batch(self) -> None:
        picked = self._pick()
        rows = self._model.encode(
            [job.request.texts[index] for job, index in picked],
            batch_size=len(picked),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        self._counters.batches += 1
        self._counters.largest_batch = max(
            self._counters.largest_batch, len({id(job) for job, _ in picked})
        )
        for (job, index), row in zip(picked, np.asarray(rows, dtype=np.float32), strict=True):
            job.vectors[index] = row
            job.encoded += 1
        done = [job for job in self._active if job.encoded == len(job.request.texts)]
        self._active = [job for job in self._active if job not in done]
        for job in done:
            self._counters.requests_finished += 1
            job.deliver(Embeddings(job.vectors, Usage(job.tokens, 0)))

    def _fail(self, error: ServingError) -> None:
        for job in self._active:
            job.deliver(error)
        self._active = []
