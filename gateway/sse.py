"""Server-sent events as they pass through: split into whole events, usage read on the way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

DONE = b"[DONE]"


class EventTooLarge(Exception):
    """One event went past the splitter's bound without ending."""


MAX_EVENT_BYTES = 1024 * 1024


class EventSplitter:
    """Cuts a byte stream into whole SSE events (each ending in a blank line), at most
    ``max_event_bytes`` each. Each byte is scanned once, however the event is cut."""

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._buffer = b""
        self._carry = b""
        """A chunk's last ``\r``, kept until the next tells whether ``\n`` follows."""
        self._scanned = 0
        self._max = max_event_bytes

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        data = self._carry + chunk
        self._carry = b"\r" if data.endswith(b"\r") else b""
        self._buffer += (data[:-1] if self._carry else data).replace(b"\r\n", b"\n")
        while True:
            end = self._buffer.find(b"\n\n", max(0, self._scanned - 1))
            if end < 0:
                self._scanned = len(self._buffer)
                if len(self._buffer) > self._max:
                    raise EventTooLarge(f"an event exceeds {self._max} bytes")
                return
            event, self._buffer = self._buffer[: end + 2], self._buffer[end + 2 :]
            self._scanned = 0
            yield event

    def rest(self) -> bytes:
        rest, self._buffer = self._buffer + self._carry, b""
        self._carry = b""
        self._scanned = 0
        return rest


def event_data(event: bytes) -> bytes | None:
    """The ``data:`` payload of one event (lines joined), or ``None`` if it has none."""
    lines = [line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


def chunk_of(event: bytes) -> dict[str, Any] | None:
    data = event_data(event)
    if data is None or data == DONE:
        return None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def is_usage_only(chunk: dict[str, Any]) -> bool:
    """The closing chunk OpenAI sends for ``include_usage``: usage and no choices."""
    return bool(chunk.get("usage")) and not chunk.get("choices")


def has_content(chunk: dict[str, Any]) -> bool:
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return False
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        if isinstance(delta, dict) and (delta.get("content") or delta.get("tool_calls")):
            return True
        if choice.get("text"):
            return True
    return False


def content_text(chunk: dict[str, Any]) -> str:
    """The first choice's text in a chunk (``delta.content`` or ``text``)."""
    choices = chunk.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else None
    if not isinstance(choice, dict):
        return ""
    delta = choice.get("delta")
    text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
    return text if isinstance(text, str) else ""
