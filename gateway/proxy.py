"""The OpenAI endpoints: authenticate, check, admit, forward, account.

A request walks through :meth:`Proxy.handle` in this order: key (401), body size
(413), body (400), model (404, 403), limits (429), replica (502/504). Token
reservations made at admission are settled with the real usage when the
response ends, whether it completed, failed, or the client left.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiohttp import ClientResponse
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from gateway import openai_schema, sse, tokens
from gateway.auth import Authenticator
from gateway.errors import (
    BodyTooLarge,
    GatewayError,
    ModelNotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    UpstreamError,
)
from gateway.keys.store import Principal
from gateway.metrics import GatewayMetrics
from gateway.openai_schema import Endpoint, ParsedRequest
from gateway.ratelimit import policy
from gateway.ratelimit.base import Admission, Limit, RateLimiter
from gateway.relay import ClientGone, RelayStream, until_disconnect
from gateway.routing import Replica, ReplicaPool
from gateway.settings import GatewaySettings
from gateway.tracing import Tracing
from gateway.upstream import UpstreamClient
from gateway.usage import StreamTally, Usage

log = logging.getLogger("llmops.gateway.access")

CLIENT_CLOSED = 499  # nginx's status for a request whose client left first
DRAIN_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class Exchange:
    """One request's state as it crosses the gateway."""

    endpoint: Endpoint
    started: float
    span: trace.Span
    principal: Principal | None = None
    parsed: ParsedRequest | None = None
    pool: ReplicaPool | None = None
    replica: Replica | None = None
    limits: tuple[Limit, ...] = ()
    reservation: str = field(default_factory=lambda: uuid.uuid4().hex)
    prompt_tokens: int = 0
    upstream_seconds: float = 0.0
    first_token_at: float | None = None
    status: int = 200
    ratelimit_headers: dict[str, str] = field(default_factory=dict)

    @property
    def model_label(self) -> str:
        return self.pool.model if self.pool is not None else "unknown"

    @property
    def team(self) -> str:
        return self.principal.team if self.principal is not None else ""


class Proxy:
    def __init__(
        self,
        *,
        settings: GatewaySettings,
        authenticator: Authenticator,
        limiter: RateLimiter,
        upstream: UpstreamClient,
        pools: dict[str, ReplicaPool],
        counters: dict[str, tokens.TokenCounter],
        metrics: GatewayMetrics,
        tracing: Tracing,
    ) -> None:
        self._settings = settings
        self._auth = authenticator
        self._limiter = limiter
        self._upstream = upstream
        self._pools = pools
        self._counters = counters
        self._estimate = tokens.EstimatedCounter()
        self._metrics = metrics
        self._tracing = tracing
        self._propagator = TraceContextTextMapPropagator()
        self._background: set[asyncio.Task[None]] = set()

    def models_for(self, principal: Principal) -> list[str]:
        return [m for m in self._pools if principal.may_use(m)]

    async def authenticate(self, request: Request) -> Principal:
        return await self._auth.authenticate(request.headers.get("authorization"))

    async def drain(self) -> None:
        """Wait for settlements still in flight (at shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # -- the request path ----------------------------------------------------------------

    async def handle(self, request: Request, endpoint: Endpoint) -> Response:
        ex = Exchange(
            endpoint=endpoint,
            started=time.perf_counter(),
            span=self._tracing.tracer.start_span(
                f"POST /v1/{endpoint.value}", kind=trace.SpanKind.SERVER
            ),
        )
        try:
            await self._admit(request, ex)
            response = await self._forward(request, ex)
        except GatewayError as e:
            ex.status = e.status
            self._finish(ex, None)
            raise
        except (ClientGone, ClientDisconnect):
            ex.status = CLIENT_CLOSED
            self._finish(ex, None)
            return Response(status_code=CLIENT_CLOSED)
        return response

    async def _admit(self, request: Request, ex: Exchange) -> None:
        with self._child(ex, "gateway.auth"):
            ex.principal = await self.authenticate(request)
        raw = await self._read_body(request)
        ex.parsed = parsed = openai_schema.parse(ex.endpoint, raw)
        ex.span.set_attribute("gen_ai.operation.name", ex.endpoint.operation)
        ex.span.set_attribute("gen_ai.request.model", parsed.model)
        ex.pool = self._pools.get(parsed.model)
        if ex.pool is None:
            raise ModelNotFound(f"The model '{parsed.model}' does not exist.", param="model")
        if not ex.principal.may_use(parsed.model):
            raise PermissionDenied(
                f"This key may not use the model '{parsed.model}'.", param="model"
            )
        ex.prompt_tokens = self._prompt_tokens(parsed)
        reserved = ex.prompt_tokens + self._completion_reserve(parsed)
        ex.limits = policy.limits_for(ex.principal, self._settings.limits.window_seconds)
        with self._child(ex, "gateway.ratelimit"):
            admission = await self._admission(ex, reserved)
        ex.ratelimit_headers = policy.headers(admission)
        if not admission.admitted:
            ex.limits = ()  # nothing was counted: nothing to settle
            for limit in admission.exceeded():
                self._metrics.ratelimited.labels(ex.team, limit.name).inc()
            raise RateLimited(
                f"Rate limit reached for team '{ex.team}' "
                f"({', '.join(lim.name for lim in admission.exceeded())}); "
                f"retry in {admission.retry_after_seconds:.1f}s.",
                headers=ex.ratelimit_headers,
            )

    async def _admission(self, ex: Exchange, reserved: int) -> Admission:
        try:
            return await self._limiter.admit(ex.limits, tokens=reserved, reservation=ex.reservation)
        except ServiceUnavailable:
            if not self._settings.limits.fail_open:
                raise
            log.warning("limit store unreachable: admitting without limits (fail_open)")
            ex.limits = ()
            return Admission(
                admitted=True, reservation=ex.reservation, retry_after_seconds=0.0, states=()
            )

    async def _read_body(self, request: Request) -> bytes:
        limit = self._settings.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > DRAIN_BYTES:
                break
            # Past the limit the rest is read and dropped (up to a bound), so that the
            # client is not cut off while still sending and does receive the 413.
        if size > limit:
            raise BodyTooLarge(f"The request body exceeds {limit} bytes.")
        return b"".join(chunks)

    def _prompt_tokens(self, parsed: ParsedRequest) -> int:
        counter = self._counters.get(parsed.model, self._estimate)
        if parsed.endpoint is Endpoint.CHAT:
            return tokens.chat_prompt_tokens(parsed.body["messages"], counter)
        field_name = "prompt" if parsed.endpoint is Endpoint.COMPLETIONS else "input"
        return tokens.input_tokens(parsed.body.get(field_name), counter)

    def _completion_reserve(self, parsed: ParsedRequest) -> int:
        if parsed.endpoint is Endpoint.EMBEDDINGS:
            return 0
        per_choice = parsed.max_tokens or self._settings.limits.default_max_tokens
        return per_choice * parsed.choices

    async def _forward(self, request: Request, ex: Exchange) -> Response:
        assert ex.pool is not None and ex.parsed is not None
        ex.replica = replica = ex.pool.pick()
        body, headers = self._upstream_request(ex)
        replica.outstanding += 1
        upstream_span = self._tracing.tracer.start_span(
            "gateway.upstream",
            context=trace.set_span_in_context(ex.span),
            kind=trace.SpanKind.CLIENT,
            attributes={"server.address": replica.url},
        )
        if self._tracing.enabled:
            self._propagator.inject(headers, context=trace.set_span_in_context(upstream_span))
        sent = time.perf_counter()
        try:
            response, data = await until_disconnect(
                request,
                self._call(f"{replica.url}/{ex.endpoint.value}", body, headers, ex.parsed.stream),
            )
        except (GatewayError, ClientGone) as e:
            replica.outstanding -= 1
            upstream_span.end()
            self._count_upstream(ex, "cancelled" if isinstance(e, ClientGone) else "error")
            raise
        finally:
            ex.upstream_seconds = time.perf_counter() - sent
        if data is None:
            return self._relay(request, ex, response, upstream_span)
        replica.outstanding -= 1
        upstream_span.end()
        return self._answer(request, ex, response, data)

    async def _call(
        self, url: str, body: bytes, headers: dict[str, str], stream: bool
    ) -> tuple[ClientResponse, bytes | None]:
        """The replica's response, read whole unless it is a stream to relay (then ``None``)."""
        response = await self._upstream.post(url, body, headers)
        if stream and response.status == 200:
            return response, None
        try:
            return response, await self._upstream.read(response)
        finally:
            response.release()

    def _upstream_request(self, ex: Exchange) -> tuple[bytes, dict[str, str]]:
        assert ex.parsed is not None
        headers = {"content-type": "application/json", "accept": "application/json"}
        body = ex.parsed.body
        if not ex.parsed.stream or ex.parsed.include_usage:
            return ex.parsed.raw, headers
        # Ask for usage to settle the reservation; the extra chunk is not relayed.
        options = {**(body.get("stream_options") or {}), "include_usage": True}
        return orjson.dumps({**body, "stream_options": options}), headers

    def _answer(
        self, request: Request, ex: Exchange, response: ClientResponse, data: bytes
    ) -> Response:
        if response.status >= 500:
            self._count_upstream(ex, "error")
            raise UpstreamError(
                f"The model replica failed with status {response.status}.",
                code="upstream_error",
            )
        self._count_upstream(ex, "success" if response.status < 400 else "client_error")
        ex.status = response.status
        usage = None
        if response.status < 400:
            try:
                parsed = orjson.loads(data)
            except orjson.JSONDecodeError:
                parsed = None
            usage = Usage.of(parsed if isinstance(parsed, dict) else None)
        self._finish(ex, usage or Usage())
        return Response(
            content=data,
            status_code=response.status,
            headers=self._headers(request, ex, response),
            media_type=response.headers.get("content-type", "application/json"),
        )

    def _relay(
        self, request: Request, ex: Exchange, response: ClientResponse, span: trace.Span
    ) -> Response:
        assert ex.parsed is not None
        headers = self._headers(request, ex, response)
        return RelayStream(
            self._events(ex, response, span, relay_usage=ex.parsed.include_usage),
            headers={**headers, "cache-control": "no-cache"},
        )

    async def _events(
        self, ex: Exchange, response: ClientResponse, span: trace.Span, *, relay_usage: bool
    ) -> AsyncIterator[bytes]:
        splitter = sse.EventSplitter()
        tally = StreamTally(relay_usage=relay_usage)
        outcome = "cancelled"
        try:
            async for chunk in response.content.iter_any():
                for event in splitter.feed(chunk):
                    if tally.passes(event):
                        yield event
            tail = splitter.rest()
            if tail:
                yield tail
            outcome = "success"
        except (aiohttp.ClientError, TimeoutError) as e:
            # Headers are sent: the status cannot change, so the stream ends with an error
            # event (the OpenAI SDK raises on it) instead of ending as if it had completed.
            outcome = "error"
            log.warning(
                "upstream stream broke",
                extra={"upstream": ex.replica and ex.replica.url, "error": str(e)},
            )
            error = UpstreamError(
                "The model replica broke off the stream.", code="upstream_stream_broken"
            )
            yield b"data: " + orjson.dumps(error.body()) + b"\n\n"
        finally:
            response.close()
            assert ex.replica is not None
            ex.replica.outstanding -= 1
            span.end()
            self._count_upstream(ex, outcome)
            if outcome != "success":
                ex.status = CLIENT_CLOSED if outcome == "cancelled" else 502
            ex.first_token_at = tally.first_token_at
            self._finish(ex, tally.final_usage(ex.prompt_tokens))

    # -- accounting ----------------------------------------------------------------------

    def _headers(self, request: Request, ex: Exchange, response: ClientResponse) -> dict[str, str]:
        assert ex.replica is not None and ex.pool is not None
        overhead = time.perf_counter() - ex.started - ex.upstream_seconds
        self._metrics.overhead.observe(overhead)
        return {
            **ex.ratelimit_headers,
            "x-llmops-cache": "bypass",
            "x-llmops-upstream": ex.replica.url,
            "x-llmops-model-version": response.headers.get("x-llmops-model-version")
            or ex.pool.version
            or ex.pool.model,
            "x-llmops-overhead-ms": f"{overhead * 1000:.3f}",
        }

    def _count_upstream(self, ex: Exchange, outcome: str) -> None:
        assert ex.replica is not None
        self._metrics.upstream.labels(ex.model_label, ex.replica.url, outcome).inc()

    def _finish(self, ex: Exchange, usage: Usage | None) -> None:
        """Metrics, log line, span end and settlement: once per request, whatever happened."""
        elapsed = time.perf_counter() - ex.started
        model, team, m = ex.model_label, ex.team, self._metrics
        m.requests.labels(model, team, str(ex.status), "bypass").inc()
        m.duration.labels(model).observe(elapsed)
        if ex.first_token_at is not None:
            m.ttft.labels(model).observe(ex.first_token_at - ex.started)
        if usage is not None and usage.total:
            m.tokens.labels(model, team, "prompt").inc(usage.prompt)
            m.tokens.labels(model, team, "completion").inc(usage.completion)
            ex.span.set_attribute("gen_ai.usage.input_tokens", usage.prompt)
            ex.span.set_attribute("gen_ai.usage.output_tokens", usage.completion)
        ex.span.set_attribute("http.response.status_code", ex.status)
        ex.span.end()
        if ex.limits:
            self._spawn(
                self._limiter.settle(
                    ex.limits, reservation=ex.reservation, tokens=usage.total if usage else 0
                )
            )
        if self._settings.access_log:
            log.info(
                "request",
                extra={
                    "endpoint": ex.endpoint.value,
                    "model": model,
                    "team": team,
                    "key_id": ex.principal.key_id if ex.principal else None,
                    "status": ex.status,
                    "stream": bool(ex.parsed and ex.parsed.stream),
                    "upstream": ex.replica.url if ex.replica else None,
                    "duration_ms": round(elapsed * 1000, 3),
                    "prompt_tokens": usage.prompt if usage else 0,
                    "completion_tokens": usage.completion if usage else 0,
                },
            )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("settlement failed", extra={"error": str(task.exception())})

    def _child(self, ex: Exchange, name: str) -> Any:
        return self._tracing.tracer.start_as_current_span(
            name, context=trace.set_span_in_context(ex.span)
        )
