"""Server-sent events in OpenAI's chunk format, and a response that stops when the client leaves.

A chat stream opens with the assistant's role, carries one chunk per text delta,
closes with the finish reason and, when the client asked for
``stream_options.include_usage``, a last chunk with the usage and no choices (every
chunk before it then carries ``"usage": null``), then ``data: [DONE]``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from llmops.serving.engine import Finished, GenerationEvent, TextDelta
from llmops.serving.schema import usage_json

DONE = b"data: [DONE]\n\n"


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def chat_chunks(
    events: AsyncIterator[GenerationEvent],
    *,
    ident: str,
    model: str,
    include_usage: bool,
    on_finish: Callable[[Finished], None],
) -> AsyncIterator[bytes]:
    """A chat completion's SSE stream from an engine's events."""
    base = _chunk_base(ident, "chat.completion.chunk", model, include_usage)

    def choice(delta: dict[str, str], finish: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "finish_reason": finish}

    return _chunks(
        events,
        base,
        opening=choice({"role": "assistant", "content": ""}),
        text=lambda text: choice({"content": text}),
        last=lambda finish: choice({}, finish),
        include_usage=include_usage,
        on_finish=on_finish,
    )


def text_chunks(
    events: AsyncIterator[GenerationEvent],
    *,
    ident: str,
    model: str,
    include_usage: bool,
    on_finish: Callable[[Finished], None],
) -> AsyncIterator[bytes]:
    """A text completion's SSE stream from an engine's events."""
    base = _chunk_base(ident, "text_completion", model, include_usage)

    def choice(text: str, finish: str | None = None) -> dict[str, Any]:
        return {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}

    return _chunks(
        events,
        base,
        opening=None,
        text=choice,
        last=lambda finish: choice("", finish),
        include_usage=include_usage,
        on_finish=on_finish,
    )


def _chunk_base(ident: str, kind: str, model: str, include_usage: bool) -> dict[str, Any]:
    """The fields every chunk of one stream repeats."""
    base: dict[str, Any] = {
        "id": ident,
        "object": kind,
        "created": int(time.time()),
        "model": model,
    }
    if include_usage:
        base["usage"] = None
    return base


async def _chunks(
    events: AsyncIterator[GenerationEvent],
    base: dict[str, Any],
    *,
    opening: dict[str, Any] | None,
    text: Callable[[str], dict[str, Any]],
    last: Callable[[str], dict[str, Any]],
    include_usage: bool,
    on_finish: Callable[[Finished], None],
) -> AsyncIterator[bytes]:
    """The ``opening`` choice's chunk, one per text delta, the finish, the usage, then DONE."""
    if opening is not None:
        yield event({**base, "choices": [opening]})
    async for item in events:
        if isinstance(item, TextDelta):
            yield event({**base, "choices": [text(item.text)]})
            continue
        on_finish(item)
        yield event({**base, "choices": [last(item.finish_reason)]})
        if include_usage:
            yield event({**base, "choices": [], "usage": usage_json(item.usage)})
    yield DONE


class EventStreamResponse(StreamingResponse):
    """An SSE response that watches for the client leaving under every ASGI version.

    Starlette stops a stream at a client's departure only when a write fails; this
    one also listens for ``http.disconnect`` and cancels the stream at once, so the
    engine drops the request before spending another step on it.
    """

    media_type = "text/event-stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def run(part: Callable[[], Awaitable[None]]) -> None:
                # OSError: the connection broke under a write, so the client is gone too.
                with contextlib.suppress(OSError):
                    await part()
                group.cancel_scope.cancel()

            group.start_soon(run, lambda: self.stream_response(send))
            await run(lambda: self.listen_for_disconnect(receive))
