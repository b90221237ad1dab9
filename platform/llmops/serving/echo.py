"""An OpenAI-compatible echo replica: answers instantly, deterministically, with real usage.

It stands in for a model where the model is not the point: trying the gateway
locally, tests of the gateway, and the gateway's benchmarks (it is fast enough
not to be the bottleneck). Its reply repeats the last user message's words, at
most ``max_tokens`` of them, one word a token; streams send one word a chunk.

:class:`EchoBehaviour` lets a test make it slow, fail, or cut streams short, and
:class:`EchoServer` records what reached it (including streams the gateway
abandoned), so tests can assert what happened on the far side.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from llmops.openai_errors import error_body

CHARS_PER_TOKEN = 4
RECORDED = 1000


@dataclass
class EchoBehaviour:
    status: int | None = None
    """Answer every request with this error status instead."""
    delay_seconds: float = 0.0
    """Wait before answering (before the first chunk of a stream)."""
    token_delay_seconds: float = 0.0
    """Wait between stream chunks."""
    cut_after_tokens: int | None = None
    """Drop the connection after this many stream chunks."""
    model_version: str | None = None
    """Sent back as ``x-llmops-model-version``."""
    usage: Any = None
    """Reported as ``usage`` instead of the real counts (a replica that misreports)."""


@dataclass
class EchoRecord:
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECORDED))
    """The latest request bodies (a bounded number)."""
    authorizations: deque[str | None] = field(default_factory=lambda: deque(maxlen=RECORDED))
    """The ``Authorization`` header each of them came with."""
    streams_started: int = 0
    streams_finished: int = 0
    streams_abandoned: int = 0
    requests_abandoned: int = 0
    """Requests whose client left while the replica was still working on them."""


def prompt_tokens(body: dict[str, Any]) -> int:
    texts: list[str] = []
    for message in body.get("messages") or ():
        content = message.get("content")
        texts.append(content if isinstance(content, str) else "")
    for name in ("prompt", "input"):
        value = body.get(name)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts.extend(v for v in value if isinstance(v, str))
    return max(1, sum(math.ceil(len(t) / CHARS_PER_TOKEN) for t in texts))


def reply_words(body: dict[str, Any]) -> list[str]:
    source = ""
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            source = message["content"]
            break
    else:
        prompt = body.get("prompt")
        source = prompt if isinstance(prompt, str) else ""
    words = source.split() or ["..."]
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    return words[: int(limit)] if isinstance(limit, int) and limit > 0 else words


def _error(status: int, message: str) -> web.Response:
    body = error_body(message, type="invalid_request_error")
    return web.json_response(body, status=status, dumps=lambda v: orjson.dumps(v).decode())


class EchoServer:
    """The echo replica on an aiohttp server, started in a background thread or awaited."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, model: str = "echo") -> None:
        self.host = host
        self.port = port
        self.model = model
        self.behaviour = EchoBehaviour()
        self.record = EchoRecord()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        """The OpenAI base URL (ends in ``/v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def start_in_thread(self) -> EchoServer:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.stop())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="echo-replica", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("echo replica did not start")
        return self

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # -- handlers --------------------------------------------------------------------------

    async def _prelude(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _error(400, "invalid JSON")
        self.record.requests.append(body)
        self.record.authorizations.append(request.headers.get("authorization"))
        if self.behaviour.delay_seconds:
            await asyncio.sleep(self.behaviour.delay_seconds)
            if request.transport is None or request.transport.is_closing():
                self.record.requests_abandoned += 1
                return _error(499, "client left")
        if self.behaviour.status is not None:
            return _error(
                self.behaviour.status, f"echo replica told to fail with {self.behaviour.status}"
            )
        if not isinstance(body, dict):
            return _error(400, "body must be an object")
        return body

    def _headers(self) -> dict[str, str]:
        return (
            {"x-llmops-model-version": self.behaviour.model_version}
            if self.behaviour.model_version
            else {}
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._generate(request, chat=True)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        return await self._generate(request, chat=False)

    async def _generate(self, request: web.Request, *, chat: bool) -> web.StreamResponse:
        body = await self._prelude(request)
        if isinstance(body, web.Response):
            return body
        words = reply_words(body)
        usage = self.behaviour.usage or {
            "prompt_tokens": prompt_tokens(body),
            "completion_tokens": len(words),
            "total_tokens": prompt_tokens(body) + len(words),
        }
        ident = (
            f"{'chatcmpl' if chat else 'cmpl'}-{hashlib.sha1(orjson.dumps(body)).hexdigest()[:16]}"  # noqa: S324
        )
        if body.get("stream"):
            return await self._stream(request, body, words, usage, ident, chat=chat)
        text = " ".join(words)
        choice: dict[str, Any] = (
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            if chat
            else {"index": 0, "text": text, "finish_reason": "stop"}
        )
        payload = {
            "id": ident,
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [choice],
            "usage": usage,
        }
        return web.Response(
            body=orjson.dumps(payload), content_type="application/json", headers=self._headers()
        )

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        words: list[str],
        usage: Any,
        ident: str,
        *,
        chat: bool,
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"content-type": "text/event-stream", **self._headers()}
        )
        await response.prepare(request)
        self.record.streams_started += 1
        base = {
            "id": ident,
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
        }
        try:
            for i, word in enumerate(words):
                if (
                    self.behaviour.cut_after_tokens is not None
                    and i >= self.behaviour.cut_after_tokens
                ):
                    assert request.transport is not None
                    request.transport.close()
                    return response
                piece = word if i == 0 else " " + word
                choice: dict[str, Any] = (
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": piece}
                        if i == 0
                        else {"content": piece},
                        "finish_reason": None,
                    }
                    if chat
                    else {"index": 0, "text": piece, "finish_reason": None}
                )
                await response.write(
                    b"data: " + orjson.dumps({**base, "choices": [choice]}) + b"\n\n"
                )
                if self.behaviour.token_delay_seconds:
                    await asyncio.sleep(self.behaviour.token_delay_seconds)
            last: dict[str, Any] = (
                {"index": 0, "delta": {}, "finish_reason": "stop"}
                if chat
                else {"index": 0, "text": "", "finish_reason": "stop"}
            )
            await response.write(b"data: " + orjson.dumps({**base, "choices": [last]}) + b"\n\n")
            if (body.get("stream_options") or {}).get("include_usage"):
                await response.write(
                    b"data: " + orjson.dumps({**base, "choices": [], "usage": usage}) + b"\n\n"
                )
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
            self.record.streams_finished += 1
        except (ConnectionResetError, asyncio.CancelledError):
            self.record.streams_abandoned += 1
            raise
        return response

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await self._prelude(request)
        if isinstance(body, web.Response):
            return body
        inputs = body.get("input")
        items = [inputs] if isinstance(inputs, str) else list(inputs or [])
        data = []
        for i, item in enumerate(items):
            digest = hashlib.sha256(orjson.dumps(item)).digest()
            data.append(
                {"object": "embedding", "index": i, "embedding": [b / 255 for b in digest[:8]]}
            )
        tokens = prompt_tokens(body)
        payload = {
            "object": "list",
            "data": data,
            "model": body.get("model", self.model),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return web.Response(
            body=orjson.dumps(payload), content_type="application/json", headers=self._headers()
        )

    async def _models(self, _: web.Request) -> web.Response:
        payload = {
            "object": "list",
            "data": [{"id": self.model, "object": "model", "created": 0, "owned_by": "llmops"}],
        }
        return web.Response(body=orjson.dumps(payload), content_type="application/json")

    async def _health(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")
