"""Getting a request answered by some replica: attempts, retries, breakers, fallbacks.

An attempt that fails before anything reached the client (no connection, the
connection broke before the answer, a 5xx answer) is tried again on another
replica, after a jittered backoff, while the request has attempts left and the
gateway's retry budget allows. When no replica of the model is available (all
tried, unhealthy or with open circuits) the model's fallbacks are tried in
order. A timeout is not retried: the replica may still be working on it. A
replica the health checks find hung (a failed probe, and no answer since) is
taken out of rotation, and the requests waiting on it are tried elsewhere at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.requests import Request

from gateway.errors import (
    GatewayError,
    ServiceUnavailable,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from gateway.exchange import Accounts, Exchange, UpstreamCall
from gateway.relay import until_disconnect
from gateway.routing import retry
from gateway.routing.pools import ModelPool, Pick, Replica, Strategy
from gateway.settings import RetrySettings
from gateway.tracing import Tracing
from gateway.upstream import UpstreamClient, UpstreamResponse

CHARS_PER_TOKEN = 4


class Dispatcher:
    def __init__(
        self,
        *,
        pools: dict[str, ModelPool],
        upstream: UpstreamClient,
        accounts: Accounts,
        tracing: Tracing,
        retries: RetrySettings,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._pools = pools
        self._upstream = upstream
        self._accounts = accounts
        self._tracing = tracing
        self._retries = retries
        self._budget = retry.RetryBudget(
            ratio=retries.budget_ratio, floor_per_second=retries.budget_floor_per_second
        )
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random()  # noqa: S311 (jitter, not secrets)
        self._propagator = TraceContextTextMapPropagator()

    async def send(
        self, request: Request, ex: Exchange, body: bytes, headers: dict[str, str]
    ) -> tuple[UpstreamCall, UpstreamResponse, bytes | None]:
        """A replica's answer that is not a failure, on the call holding its slot: read
        whole, or (``None``) a 200 stream for the caller to relay."""
        assert ex.pool is not None and ex.principal is not None
        self._budget.request(self._clock())
        tried: set[Replica] = set()
        attempts = 0
        failure: GatewayError | None = None
        session, affinity = self._keys(request, ex, ex.pool)
        for pool in self._chain(ex):
            in_pool = 0  # each model of the chain gets its own tries: fallbacks are reached
            payload = body if pool is ex.pool else _with_model(body, pool.model)
            # The request's own pool keeps the draw the cache looked up under.
            draw = split_draw(request, ex) if pool is ex.pool else pool.draw(session)
            while (
                pick := pool.pick(
                    draw=draw, affinity=affinity, exclude=tried, now=self._clock(), team=ex.team
                )
            ) is not None:
                attempts += 1
                in_pool += 1
                if attempts > 1:
                    if not await self._may_retry(request, attempts, in_pool):
                        assert failure is not None
                        raise failure
                    # The failed try is retried: the row will name the version that
                    # answers, so the one that failed is kept beside it.
                    if ex.pool is not None and ex.version is not None:
                        ex.failed_attempts.append((ex.pool.model, ex.version))
                tried.add(pick.replica)
                outcome = await self._attempt(
                    request, ex, pool=pool, pick=pick, payload=payload, headers=headers
                )
                if isinstance(outcome, GatewayError):
                    failure = outcome
                    continue
                return outcome
        raise failure or ServiceUnavailable(
            f"No replica of '{ex.pool.model}' is available right now.",
            code="no_available_replica",
            headers={"retry-after": "1"},
        )

    def _chain(self, ex: Exchange) -> list[ModelPool]:
        assert ex.pool is not None and ex.principal is not None
        fallbacks = [
            self._pools[name]
            for name in ex.pool.fallbacks
            if name in self._pools and ex.principal.may_use(name)
        ]
        return [ex.pool, *fallbacks]

    async def _may_retry(self, request: Request, attempt: int, in_pool: int) -> bool:
        """Whether try ``attempt`` (the ``in_pool``-th on its model) may go: within
        ``max_attempts`` per model of the chain, and the retry budget."""
        if in_pool > self._retries.max_attempts or not self._budget.try_retry(self._clock()):
            return False
        pause = retry.backoff(
            attempt,
            base=self._retries.backoff_base_seconds,
            cap=self._retries.backoff_max_seconds,
            draw=self._rng.random(),
        )
        if pause > 0:
            await until_disconnect(request, self._sleep(pause))
        return True

    async def _attempt(
        self,
        request: Request,
        ex: Exchange,
        *,
        pool: ModelPool,
        pick: Pick,
        payload: bytes,
        headers: dict[str, str],
    ) -> tuple[UpstreamCall, UpstreamResponse, bytes | None] | GatewayError:
        """One try on one replica: its answer, or the failure to try again after."""
        ex.pool, ex.replica, ex.version = pool, pick.replica, pick.version.version
        breaker = pick.replica.breaker
        breaker.sent(self._clock())
        call = UpstreamCall(
            self._accounts,
            ex,
            pick.replica,
            self._tracing.start(
                "gateway.upstream",
                parent=ex.span,
                kind=trace.SpanKind.CLIENT,
                attributes={"server.address": pick.replica.url},
            ),
        )
        sent_headers = headers
        if self._tracing.enabled:
            sent_headers = dict(headers)
            self._propagator.inject(sent_headers, context=trace.set_span_in_context(call.span))
        url = f"{pick.replica.url}/{ex.endpoint.value}"
        started = time.perf_counter()
        ex.sent = True
        watch = _Watch(pick.replica)
        try:
            response, data = await until_disconnect(
                request,
                self._call(url, payload, sent_headers, stream=bool(ex.parsed and ex.parsed.stream)),
            )
        except asyncio.CancelledError:
            if not watch.lost():
                breaker.released()
                call.close("cancelled")
                raise
            breaker.failed(self._clock())
            call.close("error")
            return UpstreamError("The model replica stopped answering.", code="upstream_lost")
        except UpstreamTimeout:
            breaker.failed(self._clock())
            call.close("error")
            raise
        except UpstreamError as e:
            ex.sent = not isinstance(e, UpstreamUnreachable)
            breaker.failed(self._clock())
            call.close("error")
            return e
        except BaseException:
            breaker.released()
            call.close("cancelled")
            raise
        finally:
            watch.stop()
            ex.upstream_seconds += time.perf_counter() - started
        pick.replica.answered_at = self._clock()
        if response.status >= 500:
            breaker.failed(self._clock())
            call.close("error")
            return UpstreamError(
                f"The model replica failed with status {response.status}.", code="upstream_error"
            )
        breaker.succeeded()
        call.response = response if data is None else None
        return call, response, data

    async def _call(
        self, url: str, body: bytes, headers: dict[str, str], *, stream: bool
    ) -> tuple[UpstreamResponse, bytes | None]:
        """The replica's response, read whole unless it is a stream to relay (then ``None``)."""
        response = await self._upstream.post(url, body, headers)
        if stream and response.status == 200:
            return response, None
        try:
            return response, await self._upstream.read(response)
        finally:
            response.release()

    def _keys(
        self, request: Request, ex: Exchange, pool: ModelPool
    ) -> tuple[str | None, str | None]:
        """The session key (keeps a client on one side of a split, and on one replica for
        the ``session`` strategy) and the affinity key the strategy hashes."""
        assert ex.parsed is not None
        session = session_of(request, ex.parsed.body, pool) if pool.needs_session else None
        if pool.strategy is Strategy.SESSION:
            return session, session
        if pool.strategy is Strategy.PREFIX:
            return session, _prefix(ex, pool.prefix_tokens * CHARS_PER_TOKEN)
        return session, None


def split_draw(request: Request, ex: Exchange) -> float:
    """The request's place in its model's version split, drawn once: the cache looks up
    under the version the dispatcher then tries first."""
    if ex.split_draw is None:
        assert ex.parsed is not None and ex.pool is not None
        pool = ex.pool
        ex.split_draw = pool.draw(
            session_of(request, ex.parsed.body, pool) if pool.needs_session else None
        )
    return ex.split_draw


def session_of(request: Request, body: dict[str, Any], pool: ModelPool) -> str | None:
    """The session a request names: the pool's session header, else the body's ``user``."""
    session = request.headers.get(pool.session_header)
    if session is None:
        user = body.get("user")
        session = user if isinstance(user, str) and user else None
    return session


def _prefix(ex: Exchange, chars: int) -> str:
    """The start of the prompt as the replica will see it: messages in order, or the
    prompt text."""
    assert ex.parsed is not None
    body = ex.parsed.body
    if "messages" in body:
        parts: list[str] = []
        for message in body["messages"]:
            content = message.get("content")
            parts.append(
                f"{message.get('role')}:{content if isinstance(content, str) else orjson.dumps(content).decode()}"
            )
            if sum(map(len, parts)) >= chars:
                break
        return "\n".join(parts)[:chars]
    prompt = body.get("prompt")
    return (prompt if isinstance(prompt, str) else orjson.dumps(prompt).decode())[:chars]


def _with_model(body: bytes, model: str) -> bytes:
    """The request body for a fallback model: the same request, another ``model``."""
    return orjson.dumps({**orjson.loads(body), "model": model})


class _Watch:
    """Cancels the task waiting on a replica's answer if the health checks take the
    replica out of rotation (:meth:`Replica.lost`), and tells that cancellation apart."""

    __slots__ = ("_abandoned", "_stop", "_task")

    def __init__(self, replica: Replica) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._abandoned = False
        self._stop = replica.on_lost(self._abandon)

    def _abandon(self) -> None:
        self._abandoned = True
        self._task.cancel()

    def lost(self) -> bool:
        """Whether the cancellation being handled is this one alone (not the client's or
        the server's): it is then swallowed."""
        return self._abandoned and self._task.uncancel() == 0

    def stop(self) -> None:
        self._stop()
