"""The seam between the HTTP layer and an embedding model: :class:`EmbeddingEngine` and its values.

An embedding engine turns an :class:`EmbeddingRequest` (texts) into
:class:`Embeddings`: one unit-length float32 row per text, in the request's order,
with the tokens the model read. :class:`llmops.serving.embedder.CpuEmbeddingEngine`
implements it (sentence-transformers on the CPU, batched across requests).
Cancelling :meth:`EmbeddingEngine.embed` (a client that went away) drops the texts
not yet encoded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from llmops.serving.engine import ModelEngine, Usage
from llmops.serving.errors import InvalidGenerationRequest

Vectors = npt.NDArray[np.float32]


def _request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    """The texts to embed, and the length of vector the client expects."""

    texts: tuple[str, ...]
    dimensions: int | None = None
    """``None``: the model's own."""
    single: bool = False
    """The client sent one string, not a list: errors name ``input``, not ``input[0]``."""
    request_id: str = field(default_factory=_request_id)

    def __post_init__(self) -> None:
        if not self.texts:
            raise InvalidGenerationRequest("input must not be empty", param="input")
        for index, text in enumerate(self.texts):
            if not text:
                raise InvalidGenerationRequest(
                    "input must not hold empty strings", param=self.param(index)
                )

    def param(self, index: int) -> str:
        """How an error names the text at ``index`` (OpenAI's ``param``)."""
        return "input" if self.single else f"input[{index}]"


@dataclass(frozen=True, slots=True)
class Embeddings:
    """One request's vectors (shape ``[texts, dimensions]``, rows of unit length)."""

    vectors: Vectors
    usage: Usage
    """The tokens the model read, special tokens included; no completion tokens."""


@runtime_checkable
class EmbeddingEngine(ModelEngine, Protocol):
    """A model that embeds texts, batched, off the event loop."""

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        """The request's embeddings; raises :class:`InvalidGenerationRequest` for input the
        model cannot take (too many texts, a text over its length, other dimensions)."""
        ...
