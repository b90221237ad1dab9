"""Token usage as replicas report it, and as the gateway counts it on a passing stream."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from gateway import sse


def _count(value: Any) -> int:
    """A token count as a replica reported it; anything but a whole number >= 0 reads as 0."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0


@dataclass(slots=True)
class Usage:
    prompt: int = 0
    completion: int = 0
    cached: int = 0
    """Prompt tokens the replica read from its prefix cache (part of ``prompt``)."""

    @classmethod
    def of(cls, body: dict[str, Any] | None) -> Usage | None:
        """The ``usage`` object of a response body or chunk, if it has one."""
        usage = body.get("usage") if body else None
        if not isinstance(usage, dict):
            return None
        details = usage.get("prompt_tokens_details")
        cached = _count(details.get("cached_tokens")) if isinstance(details, dict) else 0
        prompt = _count(usage.get("prompt_tokens"))
        return cls(
            prompt=prompt,
            completion=_count(usage.get("completion_tokens")),
            cached=min(cached, prompt),
        )

    @property
    def total(self) -> int:
        return self.prompt + self.completion


@dataclass(slots=True)
class StreamTally:
    """What a relayed stream has shown so far: usage if reported, else chunks of content."""

    relay_usage: bool
    """Whether the client asked for the usage chunk (else it is held back)."""
    keep_text: bool = False
    """Whether to collect the content deltas (the request log samples this request)."""
    usage: Usage | None = None
    content_chunks: int = 0
    first_token_at: float | None = None
    outcome: str = "cancelled"
    """How the stream ended: ``success``, ``error``, or ``cancelled`` until it ends."""
    text: list[str] = field(default_factory=list)
    """The content deltas seen, when ``keep_text``."""

    def passes(self, chunk: dict[str, Any] | None) -> bool:
        """Take note of one event, as its parsed chunk (``sse.chunk_of``); whether it goes
        on to the client."""
        if chunk is None:
            return True
        if sse.has_content(chunk):
            self.content_chunks += 1
            if self.keep_text:
                self.text.append(sse.content_text(chunk))
            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
        if chunk.get("usage"):
            self.usage = Usage.of(chunk) or self.usage
            return self.relay_usage or not sse.is_usage_only(chunk)
        return True

    def final_usage(self, prompt_estimate: int) -> Usage:
        """Reported usage, or for a stream cut short, the estimate: about a token a chunk."""
        return self.usage or Usage(prompt=prompt_estimate, completion=self.content_chunks)
