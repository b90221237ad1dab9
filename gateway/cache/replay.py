"""Answers made from cache entries, and streams judged complete enough to keep.

A stream is kept only if it ended the way a finished stream ends (``data: [DONE]``
after at least one chunk) and carried no error event; its events are replayed as
they were sent, the usage chunk held back unless the client asked for it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.responses import Response

from gateway import sse
from gateway.cache.base import Entry
from gateway.relay import RelayStream
from gateway.requestids import renamed

CACHE_UPSTREAM = "cache"
"""``x-llmops-upstream`` on a hit: no replica answered."""


class StreamRecorder:
    """The events of a stream as they pass, bounded; ``complete()`` judges the whole."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._events: list[bytes] = []
        self._size = 0
        self._overflow = False
        self._chunks = 0
        self._broken = False
        self._done = False

    def record(self, event: bytes, chunk: dict[str, Any] | None) -> None:
        """Keep one event; ``chunk`` is its parsed chunk (``sse.chunk_of``)."""
        if self._overflow or self._done:
            self._broken |= self._done  # anything after [DONE] is not a clean stream
            return
        data = sse.event_data(event)
        if data == sse.DONE:
            self._done = True
        elif data is not None:
            if chunk is None or "error" in chunk:
                self._broken = True
            else:
                self._chunks += 1
        self._size += len(event)
        if self._size > self._max_bytes:
            self._overflow = True
            self._events.clear()
            return
        self._events.append(event)

    def complete(self) -> bytes | None:
        """The recorded stream if it finished cleanly and fits, else ``None``."""
        if self._overflow or self._broken or not self._done or not self._chunks:
            return None
        return b"".join(self._events)


async def replay_events(
    stored: bytes, *, include_usage: bool, request_id: str
) -> AsyncIterator[bytes]:
    """The stored events in order (the usage-only chunk only if the client asked for it),
    each named with this request's id."""
    splitter = sse.EventSplitter()
    for event in splitter.feed(stored):
        chunk = sse.chunk_of(event)
        if chunk is not None and sse.is_usage_only(chunk) and not include_usage:
            continue
        yield renamed(event, chunk.get("id"), request_id) if chunk is not None else event


def hit_response(
    entry: Entry,
    *,
    similarity: float,
    headers: dict[str, str],
    include_usage: bool,
    on_close: Callable[[], None],
    request_id: str,
) -> Response:
    """The cached answer in the form it was stored (JSON, or a stream replayed), named with
    this request's id."""
    headers = {
        **headers,
        "x-llmops-request-id": request_id,
        "x-llmops-cache": "hit",
        "x-llmops-cache-similarity": f"{similarity:.4f}",
        "x-llmops-cache-age": f"{max(0.0, time.time() - entry.created):.0f}",
        "x-llmops-upstream": CACHE_UPSTREAM,
        "x-llmops-model-version": entry.version,
    }
    if entry.stream:
        return RelayStream(
            replay_events(entry.response, include_usage=include_usage, request_id=request_id),
            on_close=on_close,
            headers={**headers, "cache-control": "no-cache"},
        )
    try:
        stored = orjson.loads(entry.response)
    except orjson.JSONDecodeError:
        stored = None
    old = stored.get("id") if isinstance(stored, dict) else None
    body = renamed(entry.response, old, request_id)
    return Response(body, 200, headers, media_type="application/json")
