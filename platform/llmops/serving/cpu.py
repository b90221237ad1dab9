"""The CPU engine: a transformers model behind a continuously batching decode loop.

:meth:`CpuEngine.start` loads the model off the event loop and starts the decode
thread (:mod:`llmops.serving.decoding`). :meth:`CpuEngine.generate` tokenizes on the
caller's loop, checks the request against the context length, hands a job to the
decode thread and relays what comes back through an asyncio queue. Leaving the
iterator early (``aclose``, cancellation) marks the job cancelled, and the decode
thread drops its row before the next step.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator
from pathlib import Path

import torch
from jinja2 import TemplateError
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase
from transformers.cache_utils import DynamicLayer

from llmops.serving import weights
from llmops.serving.decoding import DecodeLoop, Job, Outcome
from llmops.serving.engine import (
    EngineStats,
    Finished,
    GenerationEvent,
    GenerationRequest,
)
from llmops.serving.errors import EngineUnavailable, InvalidGenerationRequest, ModelLoadError
from llmops.serving.sampling import TokenSampler
from llmops.serving.settings import ServingSettings
from llmops.serving.textstream import TextStream


class CpuEngine:
    """Serves one transformers model on the CPU; see the module's documentation."""

    def __init__(self, settings: ServingSettings) -> None:
        self._settings = settings
        self._model: PreTrainedModel | None = None
        self._tokenizer: PreTrainedTokenizerBase | None = None
        self._loop: DecodeLoop | None = None
        self._thread: threading.Thread | None = None
        self._max_len = 0

    @property
    def model(self) -> str:
        return self._settings.model

    @property
    def version(self) -> str:
        return self._settings.version

    async def start(self) -> None:
        if self._thread is not None:
            return
        cpu = self._settings.cpu
        torch.set_num_threads(cpu.torch_threads)
        model, tokenizer = await asyncio.to_thread(self._load)
        self._model, self._tokenizer = model, tokenizer
        limit = int(getattr(model.config, "max_position_embeddings", 0) or 2048)
        self._max_len = min(limit, self._settings.max_model_len or limit)
        self._loop = DecodeLoop(
            model,
            eos_ids=_eos_ids(model, tokenizer),
            max_batch_size=cpu.max_batch_size,
            batch_wait_seconds=cpu.batch_wait_ms / 1000,
        )
        self._thread = threading.Thread(target=self._loop.run, name="cpu-engine", daemon=True)
        self._thread.start()

    def _load(self) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        path: Path = weights.model_dir(self._settings.model_source, self._settings.cache_dir)
        model, tokenizer = weights.load(path, dtype=self._settings.cpu.dtype)
        layers = DynamicCache(config=model.config).layers
        if not all(type(layer) is DynamicLayer for layer in layers):
            raise ModelLoadError(f"{path}: the CPU engine serves full-attention models only")
        pack_output_layer(model)
        return model, tokenizer

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationEvent]:
        loop = self._running_loop()
        prompt_ids = self._prompt_ids(request)
        room = self._max_len - len(prompt_ids)
        if room < 1:
            raise InvalidGenerationRequest(
                f"the prompt is {len(prompt_ids)} tokens; this model takes at most {self._max_len - 1}",
                param="messages" if request.messages else "prompt",
            )
        wanted = request.max_tokens or self._settings.default_max_tokens
        if request.max_tokens is not None and wanted > room:
            raise InvalidGenerationRequest(
                f"max_tokens is {wanted}, but only {room} tokens fit after the "
                f"{len(prompt_ids)}-token prompt (context {self._max_len})",
                param="max_tokens",
            )
        outcomes: asyncio.Queue[Outcome] = asyncio.Queue()
        asyncio_loop = asyncio.get_running_loop()
        job = Job(
            prompt_ids=prompt_ids,
            max_tokens=min(wanted, room),
            sampler=TokenSampler(
                temperature=request.temperature, top_p=request.top_p, seed=request.seed
            ),
            text=TextStream(self._decode, request.stop),
            deliver=lambda outcome: _deliver(asyncio_loop, outcomes, outcome, job),
        )
        loop.submit(job)
        try:
            while True:
                outcome = await outcomes.get()
                if isinstance(outcome, Exception):
                    raise outcome
                yield outcome
                if isinstance(outcome, Finished):
                    return
        finally:
            job.cancelled = True  # a no-op once finished; else the row leaves at the next step

    async def check_health(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            raise EngineUnavailable("the CPU engine is not running")

    def stats(self) -> EngineStats:
        return self._loop.stats() if self._loop is not None else EngineStats()

    async def close(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.stop()
            await asyncio.to_thread(self._thread.join)
        self._loop = self._thread = None
        self._model = self._tokenizer = None

    def _running_loop(self) -> DecodeLoop:
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            raise EngineUnavailable("the CPU engine is not started")
        return self._loop

    def _tokenizer_or_fail(self) -> PreTrainedTokenizerBase:
        if self._tokenizer is None:
            raise EngineUnavailable("the CPU engine is not started")
        return self._tokenizer

    def _decode(self, token_ids: list[int]) -> str:
        return str(self._tokenizer_or_fail().decode(token_ids, skip_special_tokens=True))

    def _prompt_ids(self, request: GenerationRequest) -> list[int]:
        tokenizer = self._tokenizer_or_fail()
        if request.prompt is not None:
            ids: list[int] = tokenizer(request.prompt)["input_ids"]
        else:
            turns = [{"role": m.role, "content": m.content} for m in request.messages]
            try:
                text = tokenizer.apply_chat_template(
                    turns, add_generation_prompt=True, tokenize=False
                )
            except (TemplateError, ValueError) as e:
                raise InvalidGenerationRequest(
                    f"the model's chat template refused the messages: {e}", param="messages"
                ) from e
            # The template already holds the special tokens the model expects.
            ids = tokenizer(str(text), add_special_tokens=False)["input_ids"]
        if not ids:
            raise InvalidGenerationRequest("the prompt is empty", param="prompt")
        return ids


class _PackedLinear(torch.nn.Module):
    """A bias-free linear layer with its weight pre-packed for oneDNN.

    The output layer (vocabulary x hidden, 113 MB for SmolLM2) is the largest matrix
    product of a decode step; for a batch of rows oneDNN with a packed weight does it
    in well under half the time of the default BLAS call on these CPUs.
    """

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        self.packed = linear.weight.detach().to_mkldnn()
        self.out_features = linear.out_features

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        rows = hidden.reshape(-1, hidden.shape[-1]).to_mkldnn()
        out = torch._C._nn.mkldnn_linear(rows, self.packed, None).to_dense()
        return out.reshape(*hidden.shape[:-1], self.out_features)


def pack_output_layer(model: PreTrainedModel) -> None:
    """Swap a causal LM's output layer (``lm_head``) for a packed one where oneDNN runs it."""
    head = getattr(model, "lm_head", None)
    if not isinstance(head, torch.nn.Linear) or getattr(head, "bias", None) is not None:
        return
    if head.weight.dtype == torch.float32 and getattr(torch._C, "_has_mkldnn", False):
        setattr(model, "lm_head", _PackedLinear(head))  # noqa: B010 - not every model types it


def _deliver(
    loop: asyncio.AbstractEventLoop, outcomes: asyncio.Queue[Outcome], outcome: Outcome, job: Job
) -> None:
    """Hand an outcome from the decode thread to the consumer's event loop."""
    try:
        loop.call_soon_threadsafe(outcomes.put_nowait, outcome)
    except RuntimeError:  # the consumer's loop is closed: nobody is listening any more
        job.cancelled = True


def _eos_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> set[int]:
    """Every token that ends a generation: the tokenizer's and the generation config's."""
    ids: set[int] = set()
    for value in (tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list):
            ids.update(v for v in value if isinstance(v, int))
    return ids
