"""Counting prompt tokens before a request is admitted.

With a model's ``tokenizer.json`` configured, prompts are counted exactly with
that tokenizer. Without one they are estimated at four characters a token (the
usual rule for English with BPE vocabularies), plus four tokens of framing per
chat message and three to prime the reply. Either way the reservation is
corrected to the real usage when the response ends.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3


class TokenCounter(Protocol):
    def count(self, text: str) -> int: ...


class EstimatedCounter:
    def count(self, text: str) -> int:
        return math.ceil(len(text) / CHARS_PER_TOKEN)


class TokenizerCounter:
    """Exact counts with a Hugging Face ``tokenizers`` file."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer  # noqa: PLC0415 (only models that name a tokenizer pay for it)

        self.path = path
        self._tokenizer = Tokenizer.from_file(str(path))

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


def _text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        )
    return ""


def chat_prompt_tokens(messages: list[dict[str, Any]], counter: TokenCounter) -> int:
    total = TOKENS_PER_REPLY
    for message in messages:
        total += TOKENS_PER_MESSAGE + counter.count(_text_of(message.get("content")))
        if "name" in message:
            total += 1
    return total


def input_tokens(value: Any, counter: TokenCounter) -> int:
    """Tokens of a completions ``prompt`` or an embeddings ``input``: text, texts, or token ids."""
    if isinstance(value, str):
        return counter.count(value)
    if isinstance(value, list):
        if all(isinstance(v, int) for v in value):
            return len(value)
        return sum(input_tokens(v, counter) for v in value)
    return 0
