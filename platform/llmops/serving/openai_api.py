"""An OpenAI-compatible HTTP API over any engine: generating or embedding.

``POST /v1/chat/completions`` and ``POST /v1/completions`` (JSON, or SSE with
``stream: true``) over a generating engine, ``POST /v1/embeddings`` over an
embedding engine, ``GET /v1/models``, ``GET /healthz`` and ``GET /metrics``. An
endpoint the engine's model does not serve answers 404 ``unsupported_endpoint``.
Every response carries ``x-llmops-model-version``; every error has OpenAI's body,
and the serving errors become responses in exactly one handler. A client that
leaves (mid-stream or while waiting for JSON) ends its work at the engine's next
step (or batch).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import orjson
from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException

from llmops.serving import schema, streaming
from llmops.serving.embedding import EmbeddingEngine
from llmops.serving.engine import Completion, Engine, Finished, GenerationEvent, collect
from llmops.serving.errors import (
    EndpointNotServed,
    InvalidGenerationRequest,
    ModelNotServed,
    ServingError,
)
from llmops.serving.metrics import ServingMetrics

T = TypeVar("T")
VERSION_HEADER = "x-llmops-model-version"
CLIENT_CLOSED_REQUEST = 499
EMBEDDINGS_PATH = "/v1/embeddings"
MODEL_PATHS = frozenset({"/v1/chat/completions", "/v1/completions", EMBEDDINGS_PATH})

Chunker = Callable[..., AsyncIterator[bytes]]
Shaper = Callable[[str, str, Completion], dict[str, Any]]


def _json(payload: Any, status: int, headers: dict[str, str]) -> Response:
    return Response(orjson.dumps(payload), status, headers, media_type="application/json")


async def _unless_disconnected(request: Request, work: Awaitable[T]) -> T | None:
    """``work``'s result, or ``None`` (and ``work`` cancelled) if the client leaves first."""
    task = asyncio.ensure_future(work)

    async def client_left() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(client_left())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
    return task.result() if task.done() and not task.cancelled() else None


async def _close(events: AsyncIterator[GenerationEvent]) -> None:
    """Close an engine's stream now (an async generator's ``finally`` frees its batch row)."""
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()


async def _primed(events: AsyncIterator[GenerationEvent]) -> AsyncIterator[GenerationEvent]:
    """``events`` with the first one already awaited, so bad requests fail before headers go out."""
    try:
        first = await anext(events)
    except BaseException:
        await _close(events)
        raise

    async def rest() -> AsyncIterator[GenerationEvent]:
        try:
            yield first
            async for item in events:
                yield item
        finally:
            await _close(events)

    return rest()


class OpenAiApi:
    """The request handlers, bound to one engine and its metrics."""

    def __init__(self, engine: Engine | EmbeddingEngine, metrics: ServingMetrics) -> None:
        self.engine = engine
        self.metrics = metrics

    def _generator(self, model: str, endpoint: str) -> Engine:
        self._check_model(model)
        if isinstance(self.engine, EmbeddingEngine):
            raise EndpointNotServed(
                f"{model!r} is an embedding model: it is not served at {endpoint} "
                f"(use {EMBEDDINGS_PATH})",
                param="model",
            )
        return self.engine

    def _embedder(self, model: str) -> EmbeddingEngine:
        self._check_model(model)
        if not isinstance(self.engine, EmbeddingEngine):
            raise EndpointNotServed(
                f"{model!r} generates text: it is not served at {EMBEDDINGS_PATH}",
                param="model",
            )
        return self.engine

    def _check_model(self, model: str) -> None:
        if model != self.engine.model:
            raise ModelNotServed(
                f"this replica serves {self.engine.model!r}, not {model!r}", param="model"
            )

    @property
    def headers(self) -> dict[str, str]:
        # Read per response: an engine following a registry alias changes version.
        return {VERSION_HEADER: self.engine.version}

    async def chat(self, request: Request) -> Response:
        return await self._generate(
            request,
            schema.ChatCompletionBody,
            "chatcmpl",
            schema.chat_completion,
            streaming.chat_chunks,
        )

    async def completions(self, request: Request) -> Response:
        return await self._generate(
            request, schema.CompletionBody, "cmpl", schema.text_completion, streaming.text_chunks
        )

    async def _generate(
        self,
        request: Request,
        kind: type[schema.ChatCompletionBody] | type[schema.CompletionBody],
        prefix: str,
        shape: Shaper,
        chunker: Chunker,
    ) -> Response:
        started = time.monotonic()
        endpoint = request.url.path
        body = schema.parse(kind, await request.body())
        engine = self._generator(body.model, endpoint)
        wanted = body.to_request()
        ident = f"{prefix}-{wanted.request_id}"
        if not body.stream:
            done = await _unless_disconnected(request, collect(engine.generate(wanted)))
            if done is None:
                self.metrics.answered(endpoint, "abandoned", time.monotonic() - started, None)
                return Response(status_code=CLIENT_CLOSED_REQUEST)
            self.metrics.answered(endpoint, "ok", time.monotonic() - started, done.usage)
            return _json(shape(ident, body.model, done), 200, self.headers)
        finished: list[Finished] = []
        chunks = chunker(
            await _primed(engine.generate(wanted)),
            ident=ident,
            model=body.model,
            include_usage=body.include_usage,
            on_finish=finished.append,
        )
        recorded = self._recorded(chunks, endpoint, started, finished)
        return streaming.EventStreamResponse(recorded, headers=self.headers)

    async def _recorded(
        self, chunks: AsyncIterator[bytes], endpoint: str, started: float, finished: list[Finished]
    ) -> AsyncIterator[bytes]:
        """The stream, with its outcome counted however it ends; late errors as an error event."""
        outcome = "abandoned"
        try:
            async for chunk in chunks:
                yield chunk
            outcome = "ok"
        except ServingError as e:
            outcome = "error"
            yield streaming.event(e.body())
        finally:
            usage = finished[0].usage if finished else None
            self.metrics.answered(endpoint, outcome, time.monotonic() - started, usage)

    async def embeddings(self, request: Request) -> Response:
        started = time.monotonic()
        body = schema.parse(schema.EmbeddingBody, await request.body())
        engine = self._embedder(body.model)
        done = await _unless_disconnected(request, engine.embed(body.to_request()))
        if done is None:
            self.metrics.answered(EMBEDDINGS_PATH, "abandoned", time.monotonic() - started, None)
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        self.metrics.answered(EMBEDDINGS_PATH, "ok", time.monotonic() - started, done.usage)
        # 2,048 vectors as JSON floats take tens of milliseconds: written off the event loop.
        content = await asyncio.to_thread(
            lambda: orjson.dumps(schema.embedding_list(body.model, done, body.encoding_format))
        )
        return Response(content, 200, self.headers, media_type="application/json")

    async def models(self) -> Response:
        model = {"id": self.engine.model, "object": "model", "created": 0, "owned_by": "llmops"}
        return _json({"object": "list", "data": [model]}, 200, self.headers)

    async def health(self) -> Response:
        await self.engine.check_health()
        return _json({"status": "ok"}, 200, self.headers)

    async def prometheus(self) -> Response:
        return Response(self.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    def error(self, request: Request, error: ServingError) -> Response:
        outcome = "client_error" if error.status < 500 else "error"
        if request.url.path in MODEL_PATHS:
            self.metrics.requests.labels(self.engine.model, request.url.path, outcome).inc()
        return _json(error.body(), error.status, self.headers)


def create_app(engine: Engine | EmbeddingEngine, *, manage_engine: bool = True) -> FastAPI:
    """The API over ``engine``; the app's lifespan starts and closes it unless told not to."""
    api = OpenAiApi(engine, ServingMetrics(engine))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_engine:
            await engine.start()
        try:
            yield
        finally:
            if manage_engine:
                await engine.close()

    app = FastAPI(
        title="llmops model replica",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.api = api

    async def on_serving_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ServingError)
        return api.error(request, error)

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        wrapped = InvalidGenerationRequest(str(error.detail))
        wrapped.status = error.status_code
        return api.error(request, wrapped)

    app.add_exception_handler(ServingError, on_serving_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_api_route("/v1/chat/completions", api.chat, methods=["POST"])
    app.add_api_route("/v1/completions", api.completions, methods=["POST"])
    app.add_api_route(EMBEDDINGS_PATH, api.embeddings, methods=["POST"])
    app.add_api_route("/v1/models", api.models, methods=["GET"])
    app.add_api_route("/healthz", api.health, methods=["GET"])
    app.add_api_route("/metrics", api.prometheus, methods=["GET"])
    return app
