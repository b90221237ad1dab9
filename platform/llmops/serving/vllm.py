"""The GPU engine: vLLM's ``AsyncLLMEngine`` behind the :class:`~llmops.serving.engine.Engine` seam.

vLLM pins its own torch and transformers and needs CUDA, so it lives in its own
image (the ``vllm`` extra) and never in the CPU stack's environment; it is imported
only when this engine starts. vLLM batches continuously and schedules on its own;
this class maps our requests to ``SamplingParams``, vLLM's delta outputs to our
events, and vLLM's errors to ours. vLLM needs safetensors (its core has no GGUF
loader): a ``bundled:`` source is converted once through :mod:`llmops.serving.weights`.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from llmops.serving import weights
from llmops.serving.engine import (
    EngineStats,
    Finished,
    FinishReason,
    GenerationEvent,
    GenerationRequest,
    TextDelta,
    Usage,
)
from llmops.serving.errors import EngineUnavailable, InvalidGenerationRequest, ModelLoadError
from llmops.serving.settings import ServingSettings


def engine_args(settings: ServingSettings, model_path: str) -> dict[str, Any]:
    """vLLM's ``AsyncEngineArgs`` for ``settings``, as keyword arguments."""
    v = settings.vllm
    args: dict[str, Any] = {
        "model": model_path,
        "served_model_name": [settings.model],
        "tensor_parallel_size": v.tensor_parallel_size,
        "gpu_memory_utilization": v.gpu_memory_utilization,
        "dtype": v.dtype,
        "enforce_eager": v.enforce_eager,
        "enable_lora": v.enable_lora,
    }
    if settings.max_model_len is not None:
        args["max_model_len"] = settings.max_model_len
    if v.max_num_seqs is not None:
        args["max_num_seqs"] = v.max_num_seqs
    if v.enable_lora:
        args["max_loras"] = v.max_loras
        args["max_lora_rank"] = v.max_lora_rank
    return args


def finish_reason(vllm_reason: str | None) -> FinishReason:
    """vLLM's finish reason as OpenAI's (``length`` when cut short, else ``stop``)."""
    return "length" if vllm_reason == "length" else "stop"


class VllmEngine:
    """Serves one model with vLLM on GPUs."""

    def __init__(self, settings: ServingSettings) -> None:
        self._settings = settings
        self._engine: Any = None
        self._tokenizer: Any = None
        self._running = 0
        self._largest = 0
        self._tokens = 0
        self._finished = 0
        self._abandoned = 0

    @property
    def model(self) -> str:
        return self._settings.model

    @property
    def version(self) -> str:
        return self._settings.version

    async def start(self) -> None:
        if self._engine is not None:
            return
        try:
            from vllm import AsyncEngineArgs, AsyncLLMEngine  # noqa: PLC0415 - GPU image only
        except ImportError as e:
            raise ModelLoadError("the vllm engine needs vLLM: pip install 'llmops[vllm]'") from e
        path = weights.model_dir(self._settings.model_source, self._settings.cache_dir)
        args = AsyncEngineArgs(**engine_args(self._settings, str(path)))
        try:
            self._engine = AsyncLLMEngine.from_engine_args(args)
        except (OSError, ValueError, RuntimeError) as e:
            raise ModelLoadError(f"vLLM could not load {path}: {e}") from e
        tokenizer = self._engine.get_tokenizer()
        self._tokenizer = await tokenizer if inspect.isawaitable(tokenizer) else tokenizer

    def _prompt(self, request: GenerationRequest) -> str:
        if request.prompt is not None:
            return request.prompt
        turns = [{"role": m.role, "content": m.content} for m in request.messages]
        try:
            text = self._tokenizer.apply_chat_template(
                turns, add_generation_prompt=True, tokenize=False
            )
        except ValueError as e:
            raise InvalidGenerationRequest(
                f"the chat template refused the messages: {e}", param="messages"
            ) from e
        return str(text)

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationEvent]:
        if self._engine is None:
            raise EngineUnavailable("the vLLM engine is not started")
        from vllm import SamplingParams  # noqa: PLC0415 - GPU image only
        from vllm.sampling_params import RequestOutputKind  # noqa: PLC0415

        params = SamplingParams(
            max_tokens=request.max_tokens or self._settings.default_max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            seed=request.seed,
            stop=list(request.stop),
            output_kind=RequestOutputKind.DELTA,
        )
        self._running += 1
        self._largest = max(self._largest, self._running)
        generated, finished = 0, False
        try:
            outputs = self._engine.generate(self._prompt(request), params, request.request_id)
            async with aclosing(outputs):
                async for output in outputs:
                    piece = output.outputs[0]
                    generated += len(piece.token_ids)
                    if piece.text:
                        yield TextDelta(piece.text)
                    if output.finished:
                        finished = True
                        usage = Usage(len(output.prompt_token_ids or ()), generated)
                        yield Finished(finish_reason(piece.finish_reason), usage)
                        return
        except ValueError as e:  # vLLM's validation errors (prompt too long, bad parameters)
            raise InvalidGenerationRequest(str(e)) from e
        finally:
            self._running -= 1
            self._tokens += generated
            self._finished += finished
            self._abandoned += not finished

    async def check_health(self) -> None:
        if self._engine is None:
            raise EngineUnavailable("the vLLM engine is not started")
        try:
            await self._engine.check_health()
        except Exception as e:
            raise EngineUnavailable(f"the vLLM engine is unhealthy: {e}") from e

    def stats(self) -> EngineStats:
        return EngineStats(
            requests_running=self._running,
            largest_batch=self._largest,
            tokens_generated=self._tokens,
            requests_finished=self._finished,
            requests_abandoned=self._abandoned,
        )

    async def close(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
        self._engine = self._tokenizer = None
