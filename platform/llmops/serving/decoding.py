"""The CPU engine's decode loop: one thread that admits requests, prefills them and steps the batch.

Continuous batching: between two decode steps the loop drops rows whose consumer
went away, admits waiting requests into free rows (each prefilled alone, then
joined to the batch) and steps every row by one token. Finished rows leave at
once, so a short request never waits for a long one. All torch work happens on
this thread; events reach each request's asyncio queue through the callback the
engine gave it (``loop.call_soon_threadsafe``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import torch
from transformers import PreTrainedModel

from llmops.serving.batching import KvBatch, prefill
from llmops.serving.engine import EngineStats, Finished, FinishReason, TextDelta, Usage
from llmops.serving.errors import EngineUnavailable, ServingError
from llmops.serving.sampling import TokenSampler, next_tokens
from llmops.serving.textstream import TextStream

log = logging.getLogger(__name__)

Outcome = TextDelta | Finished | ServingError
"""What a job's consumer receives: events, or the error that ended it."""


@dataclass(eq=False)
class Job:
    """One request inside the decode loop."""

    prompt_ids: list[int]
    max_tokens: int
    sampler: TokenSampler
    text: TextStream
    deliver: Callable[[Outcome], None]
    """Hands an outcome to the consumer; must not block (it crosses threads)."""
    cancelled: bool = False
    """Set by the consumer's side when it goes away; the loop drops the job at its next step."""
    generated: int = 0
    last_token: int = field(default=-1)


@dataclass
class _Counters:
    largest_batch: int = 0
    tokens_generated: int = 0
    decode_steps: int = 0
    requests_finished: int = 0
    requests_abandoned: int = 0


class DecodeLoop:
    """Runs on its own thread (:meth:`run`); fed through :meth:`submit`, ended by :meth:`stop`."""

    def __init__(
        self,
        model: PreTrainedModel,
        *,
        eos_ids: Collection[int],
        max_batch_size: int,
        batch_wait_seconds: float,
    ) -> None:
        self._model = model
        self._eos_ids = frozenset(eos_ids)
        self._max_batch_size = max_batch_size
        self._batch_wait = batch_wait_seconds
        self._inbox: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._waiting: deque[Job] = deque()
        self._rows: list[Job] = []
        self._joining: list[Job] = []
        self._batch = KvBatch(model)
        self._counters = _Counters()
        self._stopping = threading.Event()

    def submit(self, job: Job) -> None:
        if self._stopping.is_set():
            raise EngineUnavailable("the engine is closed")
        self._inbox.put(job)

    def stop(self) -> None:
        self._stopping.set()
        self._inbox.put(None)  # wakes an idle loop

    def stats(self) -> EngineStats:
        c = self._counters
        return EngineStats(
            requests_running=len(self._rows),
            requests_waiting=len(self._waiting) + self._inbox.qsize(),
            largest_batch=c.largest_batch,
            tokens_generated=c.tokens_generated,
            decode_steps=c.decode_steps,
            requests_finished=c.requests_finished,
            requests_abandoned=c.requests_abandoned,
        )

    def run(self) -> None:
        """The thread's body: loops until :meth:`stop`, then fails what is left."""
        with torch.inference_mode():
            while not self._stopping.is_set():
                try:
                    self._admit()
                    if self._rows:
                        self._step()
                except Exception as e:
                    log.exception("decoding failed; the batch's requests end with an error")
                    self._fail_rows(ServingError(f"generation failed: {e}"))
        self._fail_rows(EngineUnavailable("the engine is closed"))
        self._take_inbox(block=False)
        for job in self._waiting:
            job.deliver(EngineUnavailable("the engine is closed"))
        self._waiting.clear()

    # -- admission -------------------------------------------------------------------------

    def _take_inbox(self, *, block: bool) -> None:
        """Move submitted jobs to the waiting line; when idle, gather those arriving together."""
        if block:
            first = self._inbox.get()
            if first is None:
                return
            self._waiting.append(first)
            deadline = time.monotonic() + self._batch_wait
            while (left := deadline - time.monotonic()) > 0:
                try:
                    job = self._inbox.get(timeout=left)
                except queue.Empty:
                    break
                if job is None:
                    return
                self._waiting.append(job)
        while True:
            try:
                job = self._inbox.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                self._waiting.append(job)

    def _admit(self) -> None:
        self._take_inbox(block=not self._rows and not self._waiting)
        self._drop_cancelled_rows()
        while self._waiting and len(self._rows) + len(self._joining) < self._max_batch_size:
            job = self._waiting.popleft()
            if job.cancelled:
                self._counters.requests_abandoned += 1
            else:
                self._joining.append(job)
        prefilled, joined = [], []
        for job in self._joining:
            done = prefill(self._model, job.prompt_ids)
            token = next_tokens(done.logits.unsqueeze(0), [job.sampler])[0]
            if self._advance(job, token):
                prefilled.append(done)
                joined.append(job)
        self._batch.join(prefilled)
        self._rows.extend(joined)
        self._joining = []

    def _drop_cancelled_rows(self) -> None:
        keep = [i for i, job in enumerate(self._rows) if not job.cancelled]
        if len(keep) < len(self._rows):
            left = len(self._rows) - len(keep)
            self._keep(keep)
            self._counters.requests_abandoned += left  # counted once the rows are gone

    # -- decoding --------------------------------------------------------------------------

    def _step(self) -> None:
        self._counters.largest_batch = max(self._counters.largest_batch, len(self._rows))
        self._counters.decode_steps += 1
        logits = self._batch.step([job.last_token for job in self._rows])
        tokens = next_tokens(logits, [job.sampler for job in self._rows])
        keep = [
            i
            for i, (job, token) in enumerate(zip(self._rows, tokens, strict=True))
            if self._advance(job, token)
        ]
        self._keep(keep)

    def _keep(self, rows: list[int]) -> None:
        self._batch.keep(rows)
        self._rows = [self._rows[i] for i in rows]

    def _advance(self, job: Job, token: int) -> bool:
        """Account one generated token to ``job``; whether it goes on."""
        job.generated += 1
        job.last_token = token
        self._counters.tokens_generated += 1
        if token in self._eos_ids:
            return self._finish(job, "stop")
        delta = job.text.push(token)
        if delta:
            job.deliver(TextDelta(delta))
        if job.text.stopped:
            return self._finish(job, "stop")
        if job.generated >= job.max_tokens:
            return self._finish(job, "length")
        return True

    def _finish(self, job: Job, reason: FinishReason) -> bool:
        rest = job.text.flush()
        if rest:
            job.deliver(TextDelta(rest))
        job.deliver(Finished(reason, Usage(len(job.prompt_ids), job.generated)))
        self._counters.requests_finished += 1
        return False

    def _fail_rows(self, error: ServingError) -> None:
        for job in (*self._rows, *self._joining):
            job.deliver(error)
        self._rows, self._joining = [], []
        self._batch.clear()
