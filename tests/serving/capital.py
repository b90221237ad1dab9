"""The question the serving tests ask through the official SDK, and the stream they read back."""

from __future__ import annotations

from collections.abc import Sequence

import openai
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

MODEL = "SmolLM2-135M-Instruct"
CAPITAL: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "What is the capital of France?"}
]


def stream_with_usage(client: openai.OpenAI) -> list[ChatCompletionChunk]:
    """The chunks of a greedy, 32-token chat stream that ends with a usage chunk."""
    return list(
        client.chat.completions.create(
            model=MODEL,
            messages=CAPITAL,
            temperature=0,
            max_tokens=32,
            stream=True,
            stream_options={"include_usage": True},
        )
    )


def streamed_text(chunks: Sequence[ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
