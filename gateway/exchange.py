"""One request's state as it crosses the gateway, and the books kept when it ends.

Two things must happen exactly once per request whatever path it takes (answered,
refused, failed, cut off, cancelled): the replica slot it took is given back
(:class:`UpstreamCall`), and its metrics, log line, span and rate-limit
settlement are written (:meth:`Accounts.finish`). Both are idempotent so that
every exit path may call them without counting twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry import trace

from gateway.keys.store import Principal
from gateway.metrics import GatewayMetrics
from gateway.openai_schema import Endpoint, ParsedRequest
from gateway.ratelimit.base import RateLimiter, Ticket
from gateway.routing.pools import ModelPool, Replica
from gateway.spend.ledger import SpendLedger
from gateway.spend.money import NANOS, Rates
from gateway.subjects import Subject
from gateway.upstream import UpstreamResponse
from gateway.usage import Usage
from llmops.requestlog.table import RequestRecord

log = logging.getLogger("llmops.gateway.access")

CLIENT_CLOSED = 499  # nginx's status for a request whose client left first


@dataclass(slots=True)
class Exchange:
    """One request's state as it crosses the gateway."""

    endpoint: Endpoint
    started: float
    span: trace.Span
    reservation: str
    """Identifies this request's entries in the rate-limit windows."""
    principal: Principal | None = None
    request_id: str = ""
    """What the answer is called (``x-llmops-request-id``, feedback names it), minted once
    the caller is known."""
    subject: Subject | None = None
    """Whose request it is (the key, the end user's keyed hash), once parsed."""
    parsed: ParsedRequest | None = None
    pool: ModelPool | None = None
    replica: Replica | None = None
    version: str | None = None
    """The model version the chosen replica belongs to."""
    split_draw: float | None = None
    """The request's place in its model's version split, drawn once (``ModelPool.draw``)."""
    failed_attempts: list[tuple[str, str]] = field(default_factory=list)
    """``(model, version)`` of each replica that failed before the gateway tried another."""
    reported_version: str = ""
    """The version the answer names in ``x-llmops-model-version``."""
    ticket: Ticket | None = None
    """What admission counted (``None`` until admitted): from then on it is spend."""
    prompt_tokens: int = 0
    sent: bool = False
    """Whether the request may have reached a replica (it then may have cost tokens)."""
    upstream_seconds: float = 0.0
    overhead_seconds: float | None = None
    first_token_at: float | None = None
    status: int = 200
    usage: Usage | None = None
    cache: str = "bypass"
    """What the response cache did: ``hit``, ``miss`` or ``bypass``."""
    answer: Any = None
    """The parsed body of a JSON answer (read by the request log)."""
    streamed: list[str] | None = None
    """The text of a relayed stream's content chunks (read by the request log)."""
    sample_text: bool | None = None
    """Whether the request log keeps the texts (``None``: not drawn yet)."""
    finished: bool = False

    @property
    def model_label(self) -> str:
        return self.pool.model if self.pool is not None else "unknown"

    @property
    def ratelimit_headers(self) -> dict[str, str]:
        return dict(self.ticket.headers) if self.ticket is not None else {}

    @property
    def team(self) -> str:
        return self.principal.team if self.principal is not None else ""

    def settled_usage(self) -> Usage:
        """What the request is counted to have used when it ends (its tokens and cost).

        The replica's reported usage when there is one. Otherwise: nothing if the
        request never reached a replica or the replica refused it (a 4xx); the
        whole reservation if an answer was delivered without usage (it may have
        used all of it); the prompt alone if the request failed or its client left
        after it was sent (the replica read the prompt, the completion was cut).
        """
        if self.usage is not None:
            return self.usage
        if not self.sent or 400 <= self.status < CLIENT_CLOSED:
            return Usage()
        if self.status < 400:
            reserved = self.ticket.tokens if self.ticket is not None else self.prompt_tokens
            return Usage(self.prompt_tokens, max(0, reserved - self.prompt_tokens))
        return Usage(self.prompt_tokens)

    def settled_tokens(self) -> int:
        return self.settled_usage().total

    def rates(self) -> Rates | None:
        """The price of the version that answered (or was to)."""
        return self.pool.rates_of(self.version) if self.pool is not None else None

    def settled_cost(self) -> int | None:
        """What the request cost as it stands (``None``: its model has no price)."""
        rates = self.rates()
        return rates.cost(self.settled_usage()) if rates is not None else None

    def note_overhead(self) -> float:
        """The gateway's own time so far (upstream time excluded), fixed at its first call."""
        if self.overhead_seconds is None:
            self.overhead_seconds = time.perf_counter() - self.started - self.upstream_seconds
        return self.overhead_seconds


class UpstreamCall:
    """A request in flight to one replica: its slot, span and response, let go once."""

    __slots__ = ("_accounts", "_ex", "closed", "replica", "response", "span")

    def __init__(
        self, accounts: Accounts, ex: Exchange, replica: Replica, span: trace.Span
    ) -> None:
        self._accounts = accounts
        self._ex = ex
        self.replica = replica
        self.span = span
        self.response: UpstreamResponse | None = None
        self.closed = False
        replica.outstanding += 1

    def close(self, outcome: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self.response is not None:
            self.response.release()
        self.replica.outstanding -= 1
        self.span.end()
        self._accounts.count_upstream(self._ex, outcome)


class RequestRecorder(Protocol):
    """Takes note of each finished request (the request log); must never block or raise."""

    def record(self, ex: Exchange, elapsed: float) -> None: ...

    def samples_text(self) -> bool:
        """Whether a request's texts are kept (drawn at the sampling rate)."""
        ...

    def record_shadow(
        self, record: RequestRecord, body: dict[str, Any], completion: str | None, *, sampled: bool
    ) -> None:
        """A shadow version's answer to a mirrored request (a row marked ``shadow``)."""
        ...


class Accounts:
    """Metrics, access log, request log, spans and rate-limit settlements of finished
    requests."""

    def __init__(
        self,
        *,
        limiter: RateLimiter,
        metrics: GatewayMetrics,
        access_log: bool,
        recorder: RequestRecorder | None = None,
        ledger: SpendLedger | None = None,
    ) -> None:
        self._limiter = limiter
        self._metrics = metrics
        self._access_log = access_log
        self._recorder = recorder
        self._ledger = ledger
        self._background: set[asyncio.Task[None]] = set()

    async def drain(self) -> None:
        """Wait for settlements still in flight (at shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def samples_text(self, ex: Exchange) -> bool:
        """Whether the request log keeps this request's texts (decided once: a stream
        collects its text only when they are kept)."""
        if ex.sample_text is None:
            ex.sample_text = self._recorder is not None and self._recorder.samples_text()
        return ex.sample_text

    def count_upstream(self, ex: Exchange, outcome: str) -> None:
        assert ex.replica is not None
        self._metrics.child(self._metrics.upstream, ex.model_label, ex.replica.url, outcome).inc()

    def finish(self, ex: Exchange) -> None:
        """Metrics, log line, span end and settlement: once per request, whatever happened."""
        if ex.finished:
            return
        ex.finished = True
        elapsed = time.perf_counter() - ex.started
        model, team, m, usage = ex.model_label, ex.team, self._metrics, ex.usage
        m.child(m.requests, model, team, str(ex.status), ex.cache).inc()
        m.child(m.duration, model).observe(elapsed)
        m.overhead.observe(max(0.0, ex.note_overhead()))
        if ex.first_token_at is not None:
            m.child(m.ttft, model).observe(ex.first_token_at - ex.started)
        if usage is not None and usage.total:
            m.child(m.tokens, model, team, "prompt").inc(usage.prompt)
            m.child(m.tokens, model, team, "completion").inc(usage.completion)
            ex.span.set_attribute("gen_ai.usage.input_tokens", usage.prompt)
            ex.span.set_attribute("gen_ai.usage.output_tokens", usage.completion)
        ex.span.set_attribute("http.response.status_code", ex.status)
        ex.span.end()
        if ex.ticket is not None:
            settled, cost = ex.settled_usage(), ex.settled_cost()
            if ex.ticket.limits:
                self._spawn(
                    self._limiter.settle(
                        ex.ticket.limits,
                        reservation=ex.reservation,
                        tokens=settled.total,
                        money=cost or 0,
                    )
                )
            self._spend(ex, settled, cost, elapsed)
        if self._access_log:
            self._log(ex, elapsed)
        # Only a key's requests are logged: unauthenticated ones (counted in the metrics)
        # would otherwise fill the log's queue, and push out the teams' own rows.
        if self._recorder is not None and ex.principal is not None:
            self._recorder.record(ex, elapsed)

    def _spend(self, ex: Exchange, usage: Usage, cost: int | None, elapsed: float) -> None:
        model, team, m = ex.model_label, ex.team, self._metrics
        if cost is None:
            m.child(m.unpriced, model).inc()
        elif cost:
            m.child(m.spend, team, model).inc(cost / NANOS)
        if self._ledger is not None and ex.principal is not None:
            self._ledger.add(
                at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=elapsed),
                team=team,
                key_id=ex.principal.key_id,
                lineage=ex.principal.key_lineage or ex.principal.key_id,
                model=model,
                version=ex.version or "",
                usage=usage,
                cost=cost or 0,
            )

    def _log(self, ex: Exchange, elapsed: float) -> None:
        usage = ex.usage
        log.info(
            "request",
            extra={
                "endpoint": ex.endpoint.value,
                "model": ex.model_label,
                "team": ex.team,
                "key_id": ex.principal.key_id if ex.principal else None,
                "status": ex.status,
                "stream": bool(ex.parsed and ex.parsed.stream),
                "upstream": ex.replica.url if ex.replica else None,
                "cache": ex.cache,
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
