"""The seam between the HTTP layer and the model: :class:`Engine` and the values it trades.

An engine turns a :class:`GenerationRequest` into a stream of events: zero or more
:class:`TextDelta` and exactly one closing :class:`Finished` with the finish reason and
the token counts. Two engines implement it: :class:`llmops.serving.cpu.CpuEngine`
(transformers on the CPU, batched) and :class:`llmops.serving.vllm.VllmEngine` (vLLM on
GPUs). Closing the iterator early (a client that went away) abandons the request: the
engine stops spending compute on it.

What every engine shares (start, health, stats, close) is :class:`ModelEngine`;
embedding models implement it too, with :mod:`llmops.serving.embedding`'s seam.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from llmops.serving.errors import InvalidGenerationRequest

FinishReason = Literal["stop", "length"]
Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")
MAX_STOP_STRINGS = 4


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a conversation, rendered with the model's chat template."""

    role: Role
    content: str


def _request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """What to generate: chat ``messages`` or a raw ``prompt`` (exactly one), and how."""

    messages: tuple[ChatMessage, ...] = ()
    prompt: str | None = None
    max_tokens: int | None = None
    """Completion tokens at most; ``None``: the engine's default (bounded by the context)."""
    temperature: float = 1.0
    """0 decodes greedily."""
    top_p: float = 1.0
    seed: int | None = None
    """Makes sampling repeatable: the same seeded request gives the same text."""
    stop: tuple[str, ...] = ()
    """Generation ends before the first of these strings; it is not returned."""
    request_id: str = field(default_factory=_request_id)

    def __post_init__(self) -> None:
        if bool(self.messages) == (self.prompt is not None):
            raise InvalidGenerationRequest(
                "give either chat messages or a prompt", param="messages"
            )
        if self.max_tokens is not None and self.max_tokens < 1:
            raise InvalidGenerationRequest("max_tokens must be at least 1", param="max_tokens")
        if not 0 <= self.temperature <= 2:
            raise InvalidGenerationRequest(
                "temperature must be between 0 and 2", param="temperature"
            )
        if not 0 < self.top_p <= 1:
            raise InvalidGenerationRequest("top_p must be in (0, 1]", param="top_p")
        if len(self.stop) > MAX_STOP_STRINGS or not all(self.stop):
            raise InvalidGenerationRequest(
                f"stop takes 1 to {MAX_STOP_STRINGS} non-empty strings", param="stop"
            )

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class TextDelta:
    """New text, to append to what came before."""

    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    """The last event of every generation."""

    finish_reason: FinishReason
    usage: Usage


GenerationEvent = TextDelta | Finished


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole generation, gathered from its events (for JSON answers)."""

    text: str
    finish_reason: FinishReason
    usage: Usage


async def collect(events: AsyncIterator[GenerationEvent]) -> Completion:
    """Gather a stream of events into one :class:`Completion`."""
    pieces: list[str] = []
    async for event in events:
        if isinstance(event, TextDelta):
            pieces.append(event.text)
        else:
            return Completion("".join(pieces), event.finish_reason, event.usage)
    raise RuntimeError("the engine's stream ended without a Finished event")


@dataclass(frozen=True, slots=True)
class EngineStats:
    """What an engine is doing now and has done, for metrics and tests."""

    requests_running: int = 0
    """Requests being decoded in the current batch."""
    requests_waiting: int = 0
    """Requests accepted but not yet in a batch."""
    largest_batch: int = 0
    """The most requests decoded together in one step since the engine started."""
    tokens_generated: int = 0
    decode_steps: int = 0
    """Forward passes over the batch; ``tokens_generated / decode_steps`` is the mean batch."""
    requests_finished: int = 0
    requests_abandoned: int = 0
    """Requests whose consumer went away before the end."""


class ModelEngine(Protocol):
    """What every engine does, whatever its model does: start, report, answer health checks, close.

    :class:`Engine` adds generation; :class:`llmops.serving.embedding.EmbeddingEngine`
    adds embeddings.
    """

    @property
    def model(self) -> str:
        """The model name clients ask for."""
        ...

    @property
    def version(self) -> str:
        """The model version this engine serves (reported in ``x-llmops-model-version``)."""
        ...

    async def start(self) -> None:
        """Load the model and start serving; raises :class:`ModelLoadError`."""
        ...

    async def check_health(self) -> None:
        """Return if the engine can serve; raise :class:`EngineUnavailable` if not."""
        ...

    def stats(self) -> EngineStats:
        """A snapshot of the engine's counters."""
        ...

    async def close(self) -> None:
        """Stop serving, end requests in flight, free the model."""
        ...


class Engine(ModelEngine, Protocol):
    """A model behind an async, streaming, batched generation interface."""

    def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationEvent]:
        """Stream the request's events; raises :class:`InvalidGenerationRequest` before the first."""
        ...
