"""The OpenAI endpoints: authenticate, check, admit, forward, account.

A request walks through :meth:`Proxy.handle` in this order: key (401), body size
(413), body (400), model (404, 403), limits (429), replica (502/504). Token
reservations made at admission are settled with the real usage when the
response ends, whether it completed, failed, or the client left.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import orjson
from opentelemetry import trace
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from gateway import largebodies, openai_schema, sse, tokens
from gateway.admission import Admissions
from gateway.auth import Authenticator
from gateway.cache.replay import StreamRecorder, hit_response
from gateway.cache.service import Lookup, ResponseCache, Result
from gateway.dispatch import Dispatcher, split_draw
from gateway.errors import (
    BodyTooLarge,
    GatewayError,
    ModelNotFound,
    PermissionDenied,
    UpstreamError,
)
from gateway.exchange import CLIENT_CLOSED, Accounts, Exchange, RequestRecorder, UpstreamCall
from gateway.guardrails.outputs import StreamGuard, blocked_error
from gateway.guardrails.service import Guardrails
from gateway.keys.store import Principal
from gateway.largebodies import LargeBodies
from gateway.metrics import GatewayMetrics
from gateway.openai_schema import Endpoint, ParsedRequest
from gateway.ratelimit.base import RateLimiter
from gateway.relay import ClientGone, RelayStream
from gateway.requestids import RequestIds, renamed
from gateway.routing.pools import ModelPool
from gateway.settings import GatewaySettings
from gateway.shadow import Mirrored, ShadowMirror
from gateway.spend import money
from gateway.spend.ledger import SpendLedger
from gateway.subjects import SubjectHasher, tags_of
from gateway.tracing import Tracing
from gateway.upstream import UpstreamClient, UpstreamResponse, replica_id
from gateway.usage import StreamTally, Usage

T = TypeVar("T")


log = logging.getLogger("llmops.gateway.access")

DRAIN_BYTES = 16 * 1024 * 1024
HEADER_VALUE = re.compile(r"[\x21-\x7e]{1,128}")


class Proxy:
    def __init__(
        self,
        *,
        settings: GatewaySettings,
        authenticator: Authenticator,
        limiter: RateLimiter,
        upstream: UpstreamClient,
        pools: dict[str, ModelPool],
        counters: dict[str, tokens.TokenCounter],
        metrics: GatewayMetrics,
        tracing: Tracing,
        cache: ResponseCache | None = None,
        recorder: RequestRecorder | None = None,
        ledger: SpendLedger | None = None,
        guardrails: Guardrails | None = None,
    ) -> None:
        self._settings = settings
        self._guardrails = guardrails
        self._auth = authenticator
        self._limiter = limiter
        self._upstream = upstream
        self._pools = pools
        self._counters = counters
        self._estimate = tokens.EstimatedCounter()
        self._large = LargeBodies(
            share=settings.limits.large_body_cpu_share,
            max_wait_seconds=settings.limits.large_body_max_wait_seconds,
        )
        self._metrics = metrics
        self._tracing = tracing
        self._cache = cache
        self._max_entry_bytes = settings.cache.max_entry_bytes
        self._subjects = SubjectHasher(settings.key_hash_secret)
        self._ids = RequestIds(settings.key_hash_secret)
        self._shadow = ShadowMirror(upstream, recorder, metrics.registry)
        # Reservation ids: unique across replicas (a random prefix), cheap to make (a counter).
        self._reservation_prefix = secrets.token_hex(8) + "-"
        self._reservation_ids = itertools.count()
        self._accounts = Accounts(
            limiter=limiter,
            metrics=metrics,
            access_log=settings.access_log,
            recorder=recorder,
            ledger=ledger,
        )
        self._admission = Admissions(
            settings=settings, limiter=limiter, pools=pools, metrics=metrics, ledger=ledger
        )
        self._dispatcher = Dispatcher(
            pools=pools,
            upstream=upstream,
            accounts=self._accounts,
            tracing=tracing,
            retries=settings.routing.retries,
        )

    def models_for(self, principal: Principal) -> list[str]:
        return [m for m in self._pools if principal.may_use(m)]

    async def authenticate(self, request: Request) -> Principal:
        client = request.client.host if request.client is not None else ""
        return await self._auth.authenticate(request.headers.get("authorization"), client)

    async def drain(self) -> None:
        """Wait for settlements and key lookups still in flight (at shutdown)."""
        await self._accounts.drain()
        await self._shadow.drain()
        await self._auth.drain(self._settings.database_timeout_seconds)
        self._large.close()

    # -- the request path ----------------------------------------------------------------

    async def handle(self, request: Request, endpoint: Endpoint) -> Response:
        ex = Exchange(
            endpoint=endpoint,
            started=time.perf_counter(),
            span=self._tracing.start(
                f"POST /v1/{endpoint.value}", kind=trace.SpanKind.SERVER, carrier=request.headers
            ),
            reservation=f"{self._reservation_prefix}{next(self._reservation_ids):x}",
        )
        streaming = False
        try:
            await self._admit(request, ex)
            lookup = await self._look_up(request, ex)
            if lookup.result is Result.HIT:
                response = self._cached(ex, lookup)
            else:
                response = await self._forward(request, ex, lookup)
            streaming = isinstance(response, RelayStream)  # it finishes the exchange itself
        except GatewayError as e:
            ex.status = e.status
            if isinstance(e, UpstreamError):
                e.headers = {**ex.ratelimit_headers, **e.headers}
            raise
        except (ClientGone, ClientDisconnect):
            ex.status = CLIENT_CLOSED
            return Response(status_code=CLIENT_CLOSED)
        except asyncio.CancelledError:
            ex.status = CLIENT_CLOSED
            raise
        except Exception:
            ex.status = 500
            raise
        finally:
            if not streaming:
                self._accounts.finish(ex)
        return response

    async def _admit(self, request: Request, ex: Exchange) -> None:
        with self._child(ex, "gateway.auth"):
            ex.principal = await self.authenticate(request)
        ex.request_id = self._ids.mint(ex.reservation, ex.team)
        if _declared_length(request) >= largebodies.SIZE:  # refused before it is read
            self._large.check(ex.principal.key_id)
        raw = await self._read_body(request)
        large = len(raw) >= largebodies.SIZE
        if not large:
            ex.parsed = parsed = openai_schema.parse(ex.endpoint, raw)
        else:  # parsed in the workers, so that one large body never stalls the others
            ex.parsed = parsed = await self._large.run(
                ex.principal.key_id, openai_schema.parse, ex.endpoint, raw
            )
        ex.subject = self._subjects.subject(ex.principal.key_id, parsed.body, request.headers)
        if self._guardrails is not None:
            with self._child(ex, "gateway.guardrails"):
                ex.parsed = parsed = await self._guardrails.check_input(
                    parsed, ex.principal.team, ex.principal.key_id
                )
        ex.span.set_attribute("gen_ai.operation.name", ex.endpoint.operation)
        ex.span.set_attribute("gen_ai.request.model", parsed.model)
        ex.pool = self._pools.get(parsed.model)
        if ex.pool is None:
            raise ModelNotFound(f"The model '{parsed.model}' does not exist.", param="model")
        if not ex.principal.may_use(parsed.model):
            raise PermissionDenied(
                f"This key may not use the model '{parsed.model}'.", param="model"
            )
        if not large:
            ex.prompt_tokens = self._prompt_tokens(parsed)
        else:
            ex.prompt_tokens = await self._large.run(
                ex.principal.key_id, self._prompt_tokens, parsed
            )
        completion = self._completion_reserve(parsed)
        with self._child(ex, "gateway.ratelimit"):
            ex.ticket = await self._admission.admit(ex, completion)

    async def _look_up(self, request: Request, ex: Exchange) -> Lookup:
        """What the cache holds for this request. It comes after admission: a hit is a
        request like any other for the request limits, and settles its tokens to 0."""
        if self._cache is None:
            return Lookup(Result.BYPASS)
        assert ex.parsed is not None and ex.pool is not None and ex.principal is not None
        with self._child(ex, "gateway.cache"):
            plan = None
            if len(ex.parsed.raw) >= largebodies.SIZE:  # its keys are made in the workers
                plan = await self._large.run(
                    ex.principal.key_id, self._cache.plan, ex.parsed, ex.team, request.headers
                )
            lookup = await self._cache.lookup(
                ex.parsed,
                team=ex.team,
                version=ex.pool.split_version(split_draw(request, ex), ex.team),
                headers=request.headers,
                plan=plan,
            )
        ex.cache = lookup.result.value
        self._cache.count(lookup.result)
        return lookup

    def _cached(self, ex: Exchange, lookup: Lookup) -> Response:
        assert ex.parsed is not None and ex.pool is not None and lookup.entry is not None
        ex.version = lookup.version
        return hit_response(
            lookup.entry,
            similarity=lookup.similarity or 0.0,
            headers={
                **ex.ratelimit_headers,
                "x-llmops-model": ex.pool.model,
                "x-llmops-overhead-ms": f"{ex.note_overhead() * 1000:.3f}",
                "x-llmops-cost": "0",  # no model tokens were spent
            },
            include_usage=ex.parsed.include_usage,
            on_close=lambda: self._accounts.finish(ex),
            request_id=ex.request_id,
        )

    def _keep(self, ex: Exchange, lookup: Lookup, data: bytes, *, stream: bool) -> None:
        """Store a complete answer of the model asked for (not a fallback's)."""
        if self._cache is None or not lookup.storable or ex.version is None:
            return
        assert ex.parsed is not None and ex.pool is not None
        if ex.pool.model != ex.parsed.model:
            return
        self._cache.store(
            lookup,
            response=data,
            stream=stream,
            version=ex.version,
            reported=ex.reported_version,
            team=ex.team,
            subjects=tags_of(ex.team, ex.subject),
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

    async def _forward(self, request: Request, ex: Exchange, lookup: Lookup) -> Response:
        body, headers = self._upstream_request(ex)
        self._mirror(ex)
        call, response, data = await self._dispatcher.send(request, ex, body, headers)
        try:
            if data is None:
                return self._relay(request, ex, call, lookup)
            call.close("success" if response.status < 400 else "client_error")
            return await self._answer(request, ex, response, data, lookup)
        except BaseException:
            call.close("error")
            raise

    def _mirror(self, ex: Exchange) -> None:
        """A chat request of a model with a shadow version goes there too (unawaited)."""
        if ex.pool is None or ex.pool.shadow is None or ex.endpoint is not Endpoint.CHAT:
            return
        assert ex.parsed is not None and ex.principal is not None
        mirrored = Mirrored(
            team=ex.team,
            request_id=ex.request_id,
            key_id=ex.subject.key_id if ex.subject else ex.principal.key_id,
            user_hash=ex.subject.user_hash if ex.subject else None,
            keep_text=self._accounts.samples_text(ex),
        )
        self._shadow.mirror(ex.pool, ex.parsed.body, mirrored)

    def _upstream_request(self, ex: Exchange) -> tuple[bytes, dict[str, str]]:
        assert ex.parsed is not None
        headers = {"content-type": "application/json", "accept": "application/json"}
        body = ex.parsed.body
        capped = self._capped(ex)
        if (not ex.parsed.stream or ex.parsed.include_usage) and not capped:
            return ex.parsed.raw, headers
        if capped:
            body = {**body, "max_tokens": self._settings.limits.default_max_tokens}
        if ex.parsed.stream and not ex.parsed.include_usage:
            # Ask for usage to settle the reservation; the extra chunk is not relayed.
            options = {**(body.get("stream_options") or {}), "include_usage": True}
            body = {**body, "stream_options": options}
        return orjson.dumps(body), headers

    def _capped(self, ex: Exchange) -> bool:
        """Whether a request held by a budget names no completion limit: it is sent with
        the allowance it reserved (``limits.default_max_tokens``), so that it cannot cost
        more than its reservation says."""
        assert ex.parsed is not None
        if ex.parsed.max_tokens is not None or ex.parsed.endpoint is Endpoint.EMBEDDINGS:
            return False
        return ex.ticket is not None and any(lim.period for lim in ex.ticket.limits)

    async def _answer(
        self,
        request: Request,
        ex: Exchange,
        response: UpstreamResponse,
        data: bytes,
        lookup: Lookup,
    ) -> Response:
        ex.status = response.status
        headers = self._headers(request, ex, response)
        if response.status < 400:
            try:
                parsed = orjson.loads(data)
            except orjson.JSONDecodeError:
                parsed = None
            ex.usage = Usage.of(parsed if isinstance(parsed, dict) else None)
            if self._guardrails is not None and ex.principal is not None:
                data = (
                    await self._guardrails.check_answer(
                        ex.principal.team, ex.principal.key_id, parsed
                    )
                    or data
                )
            if isinstance(parsed, dict):
                data = renamed(data, parsed.get("id"), headers["x-llmops-request-id"])
            if response.status == 200 and isinstance(parsed, dict) and parsed.get("choices"):
                self._keep(ex, lookup, data, stream=False)
            ex.answer = parsed
        headers["x-llmops-cost"] = money.text(ex.settled_cost() or 0)
        return Response(
            content=data,
            status_code=response.status,
            headers=headers,
            media_type=response.headers.get("content-type", "application/json"),
        )

    def _relay(
        self, request: Request, ex: Exchange, call: UpstreamCall, lookup: Lookup
    ) -> Response:
        assert ex.parsed is not None and call.response is not None
        tally = StreamTally(
            relay_usage=ex.parsed.include_usage, keep_text=self._accounts.samples_text(ex)
        )
        recorder = StreamRecorder(self._max_entry_bytes) if lookup.storable else None

        def close() -> None:
            call.close(tally.outcome)
            if tally.outcome != "success":
                ex.status = CLIENT_CLOSED if tally.outcome == "cancelled" else 502
            elif recorder is not None and (complete := recorder.complete()) is not None:
                self._keep(ex, lookup, complete, stream=True)
            ex.first_token_at = tally.first_token_at
            ex.usage = tally.final_usage(ex.prompt_tokens)
            ex.streamed = tally.text
            self._accounts.finish(ex)

        headers = self._headers(request, ex, call.response)
        return RelayStream(
            self._events(ex, call.response, tally, recorder, headers["x-llmops-request-id"]),
            on_close=close,
            headers={**headers, "cache-control": "no-cache"},
        )

    async def _events(
        self,
        ex: Exchange,
        response: UpstreamResponse,
        tally: StreamTally,
        recorder: StreamRecorder | None,
        request_id: str,
    ) -> AsyncIterator[bytes]:
        """The client's events: the replica's, named with ``request_id``, through the guard."""
        splitter = sse.EventSplitter(self._settings.upstream.max_event_bytes)
        guard = self._guardrails.stream(ex.team) if self._guardrails is not None else None
        try:
            async for event in self._upstream_events(response, splitter):
                outgoing = [event] if guard is None else await self._guarded(ex, guard, event)
                for out in outgoing:
                    parsed = sse.chunk_of(out)
                    if parsed is not None and "id" in parsed:
                        out = renamed(out, parsed["id"], request_id)  # noqa: PLW2901
                        parsed["id"] = request_id
                    if recorder is not None:
                        recorder.record(out, parsed)
                    if tally.passes(parsed):
                        usage = parsed is not None and isinstance(parsed.get("usage"), dict)
                        yield _with_cost(ex, parsed) if parsed is not None and usage else out
                if guard is not None and guard.blocked:
                    break
            tally.outcome = "success"
        except Exception as e:  # noqa: BLE001 (a broken stream must end in an error event)
            # Headers are sent: the status cannot change, so the stream ends with an error
            # event (the OpenAI SDK raises on it) instead of ending as if it had completed.
            tally.outcome = "error"
            if ex.replica is not None:  # a replica that breaks streams is a failing one
                ex.replica.breaker.failed(time.monotonic())
            log.warning(
                "upstream stream broke",
                extra={"upstream": ex.replica and ex.replica.url, "error": repr(e)},
            )
            error = UpstreamError(
                "The model replica broke off the stream.", code="upstream_stream_broken"
            )
            yield b"data: " + orjson.dumps(error.body()) + b"\n\n"
        finally:
            if guard is not None and self._guardrails is not None and ex.principal is not None:
                self._guardrails.report(
                    ex.team, ex.principal.key_id, tuple(guard.findings), direction="output"
                )

    async def _upstream_events(
        self, response: UpstreamResponse, splitter: sse.EventSplitter
    ) -> AsyncIterator[bytes]:
        async for chunk in self._upstream.chunks(response):
            for event in splitter.feed(chunk):
                yield event
        tail = splitter.rest()
        if tail:
            yield tail

    async def _guarded(self, ex: Exchange, guard: StreamGuard, event: bytes) -> list[bytes]:
        """What goes to the client for one upstream event: its text as the guard lets it
        go (perhaps nothing yet), or the error event that ends a blocked stream."""
        parsed = sse.chunk_of(event)
        if parsed is None:
            if sse.event_data(event) != sse.DONE:
                return [event]
            held = await guard.flush()  # the stream ends: what is still held goes now
            outgoing = [held, event] if held is not None else [event]
        elif not parsed.get("choices"):
            return [event]
        else:
            out = await guard.event(parsed)
            outgoing = [out] if out is not None else []
        if guard.blocked:
            error = blocked_error(ex.team, guard.findings)
            return [b"data: " + orjson.dumps(error.body()) + b"\n\n"]
        return outgoing

    # -- helpers -------------------------------------------------------------------------

    def _headers(
        self, request: Request, ex: Exchange, response: UpstreamResponse
    ) -> dict[str, str]:
        assert ex.replica is not None and ex.pool is not None
        overhead = ex.note_overhead()
        reported = response.headers.get("x-llmops-model-version")
        if reported is not None and not HEADER_VALUE.fullmatch(reported):
            reported = None  # not a value a header may carry: the configured one stands
        ex.reported_version = reported or ex.version or ex.pool.default_version
        return {
            **ex.ratelimit_headers,
            "x-llmops-cache": ex.cache,
            "x-llmops-upstream": (
                ex.replica.url if self._settings.expose_upstreams else replica_id(ex.replica.url)
            ),
            "x-llmops-model": ex.pool.model,
            "x-llmops-model-version": ex.reported_version,
            "x-llmops-overhead-ms": f"{overhead * 1000:.3f}",
            "x-llmops-request-id": ex.request_id,
        }

    def _child(self, ex: Exchange, name: str) -> Any:
        return self._tracing.child(ex.span, name)


def _outcome(status: int) -> str:
    if status >= 500:
        return "error"
    return "success" if status < 400 else "client_error"


def _with_cost(ex: Exchange, chunk: dict[str, Any]) -> bytes:
    """A stream's usage chunk with what the stream cost, as ``usage.cost`` (a stream's
    headers leave before its usage is known, so it cannot be ``x-llmops-cost``)."""
    rates = ex.rates()
    usage = Usage.of(chunk)
    cost = rates.cost(usage) if rates is not None and usage is not None else 0
    chunk = {**chunk, "usage": {**chunk["usage"], "cost": money.text(cost)}}
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _declared_length(request: Request) -> int:
    """The body's length as the client declares it (0 when it does not, or not as a number)."""
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else 0
