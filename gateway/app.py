"""The gateway's FastAPI app: dependencies built in the lifespan, errors answered in one place."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway import admin, db, feedback, openapi, tokens
from gateway.auth import Authenticator
from gateway.cache import build as cache_build
from gateway.cache.embedding import Embedder
from gateway.cache.service import ResponseCache
from gateway.credentials import UpstreamCredentials
from gateway.errors import (
    BodyTooLarge,
    GatewayError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
)
from gateway.feedback import FeedbackStore
from gateway.guardrails import meaning
from gateway.guardrails.service import Guardrails
from gateway.keys.material import KeyHasher
from gateway.keys.store import KeyStore
from gateway.metrics import GatewayMetrics, ReplicaGauges
from gateway.openai_schema import Endpoint
from gateway.privacy import Privacy, registry_lineage
from gateway.proxy import Proxy
from gateway.ratelimit.base import RateLimiter
from gateway.ratelimit.memory import MemoryRateLimiter
from gateway.ratelimit.redis import RedisRateLimiter
from gateway.requestids import RequestIds
from gateway.requestlog import RequestLog
from gateway.routing.health import HealthChecker
from gateway.routing.pools import pools_from, replica_states
from gateway.routing.routesfile import RoutesWatcher, RouteTable
from gateway.settings import DEFAULT_KEY_HASH_SECRET, GatewaySettings
from gateway.spend.ledger import SpendLedger
from gateway.subjects import SubjectHasher
from gateway.supervision import Supervisor
from gateway.tracing import Tracing
from gateway.upstream import UpstreamClient
from llmops.requestlog import namereader
from llmops.requestlog.redaction import PiiRedactor

log = logging.getLogger("llmops.gateway")


@dataclass(frozen=True)
class Services:
    settings: GatewaySettings
    store: KeyStore
    limiter: RateLimiter
    proxy: Proxy
    metrics: GatewayMetrics
    privacy: Privacy
    supervisor: Supervisor
    feedback: FeedbackStore
    cache: ResponseCache | None = None


def _counters(settings: GatewaySettings) -> dict[str, tokens.TokenCounter]:
    return {
        m.name: tokens.TokenizerCounter(m.tokenizer)
        for m in settings.models
        if m.tokenizer is not None
    }


def privacy_of(
    settings: GatewaySettings,
    engine: AsyncEngine,
    cache: ResponseCache | None,
    request_log: RequestLog | None,
) -> Privacy:
    tracking = settings.privacy.tracking_uri
    return Privacy(
        engine,
        SubjectHasher(settings.key_hash_secret),
        cache=cache,
        queued=request_log,
        windows=settings.privacy.window_dirs,
        lineage=registry_lineage(tracking) if tracking else None,
    )


def _request_log(
    engine: AsyncEngine, settings: GatewaySettings, metrics: GatewayMetrics, supervisor: Supervisor
) -> RequestLog | None:
    if not settings.request_log.enabled:
        return None
    request_log = RequestLog(
        engine,
        settings.request_log,
        PiiRedactor(),
        metrics.registry,
        supervisor=supervisor,
    )
    request_log.start()
    return request_log


def _refuse_default_secret(settings: GatewaySettings) -> None:
    if settings.key_hash_secret == DEFAULT_KEY_HASH_SECRET and not settings.allow_default_secret:
        raise RuntimeError(
            "key_hash_secret is the public default: anyone could forge key hashes and read "
            "user hashes. Set key_hash_secret (LLMOPS_KEY_HASH_SECRET, or the chart's "
            "secrets), or allow_default_secret: true for a throwaway local gateway."
        )


def _ledger(
    engine: AsyncEngine, settings: GatewaySettings, metrics: GatewayMetrics, supervisor: Supervisor
) -> SpendLedger:
    ledger = SpendLedger(
        engine,
        flush_seconds=settings.budgets.flush_seconds,
        registry=metrics.registry,
        supervisor=supervisor,
        timeout_seconds=settings.database_timeout_seconds,
    )
    ledger.start()
    return ledger


async def _guardrails(
    settings: GatewaySettings, store: KeyStore, metrics: GatewayMetrics, supervisor: Supervisor
) -> Guardrails:
    detector = None
    if settings.guardrails.needs_detector:  # loaded off the loop: it reads a file
        detector = await asyncio.to_thread(meaning.load)
    # The name reader (request log and PII checks): loaded now, not on a first request.
    await asyncio.to_thread(namereader.warm)
    guardrails = Guardrails(
        settings.guardrails,
        scorer=detector,
        store=store,
        registry=metrics.registry,
        supervisor=supervisor,
    )
    guardrails.start()
    return guardrails


@contextlib.asynccontextmanager
async def _services(
    settings: GatewaySettings, metrics: GatewayMetrics, embedder: Embedder | None
) -> AsyncIterator[Services]:
    _refuse_default_secret(settings)
    if settings.migrate_on_start:
        await asyncio.to_thread(db.migrate, settings.database_url)
    engine = db.create_engine(
        settings.database_url, timeout_seconds=settings.database_timeout_seconds
    )
    store = KeyStore(
        engine,
        KeyHasher(settings.key_hash_secret),
        timeout_seconds=settings.database_timeout_seconds,
    )
    supervisor = Supervisor(metrics.registry)
    limiter: RateLimiter = (
        RedisRateLimiter.from_url(settings.redis_url, timeout=settings.limits.store_timeout_seconds)
        if settings.redis_url
        else MemoryRateLimiter()
    )
    upstream = UpstreamClient(settings.upstream, UpstreamCredentials(settings.upstream_credentials))
    tracing = Tracing(settings.tracing)
    request_log = _request_log(engine, settings, metrics, supervisor)
    ledger = _ledger(engine, settings, metrics, supervisor)
    guardrails = await _guardrails(settings, store, metrics, supervisor)
    await upstream.start()
    pools = pools_from(settings.models, settings.routing.circuit)
    counters = _counters(settings)
    table = RouteTable(pools, counters, settings.routing.circuit)
    watcher = None
    if settings.routes_file is not None:
        watcher = RoutesWatcher(
            settings.routes_file,
            table,
            settings.models,
            interval_seconds=settings.routes_poll_seconds,
            on_reload=lambda ok: metrics.routes_reloads.labels("ok" if ok else "error").inc(),
            supervisor=supervisor,
        )
        await asyncio.to_thread(watcher.load)
        watcher.start()
    gauges = ReplicaGauges(lambda: replica_states(pools, time.monotonic()))
    metrics.registry.register(gauges)
    health = settings.routing.health
    checker = HealthChecker(
        table.replicas,
        lambda url: upstream.probe(f"{url}/models", seconds=health.timeout_seconds),
        interval_seconds=health.interval_seconds,
        unhealthy_after=health.unhealthy_after,
        supervisor=supervisor,
    )
    checker.start()
    cache: ResponseCache | None = None
    if settings.cache.enabled:
        cache = await cache_build.response_cache(settings, metrics, embedder, supervisor)
    proxy = Proxy(
        settings=settings,
        authenticator=Authenticator(
            store,
            cache_seconds=settings.key_cache_seconds,
            stale_seconds=settings.key_stale_seconds,
            served_stale=metrics.keys_served_stale,
            failures_per_minute=settings.auth_failures_per_minute,
            refresh_wait_seconds=settings.key_refresh_wait_seconds,
        ),
        limiter=limiter,
        upstream=upstream,
        pools=pools,
        counters=counters,
        metrics=metrics,
        tracing=tracing,
        cache=cache,
        recorder=request_log,
        ledger=ledger,
        guardrails=guardrails,
    )
    try:
        yield Services(
            settings=settings,
            store=store,
            limiter=limiter,
            proxy=proxy,
            metrics=metrics,
            privacy=privacy_of(settings, engine, cache, request_log),
            supervisor=supervisor,
            feedback=FeedbackStore(
                engine,
                ids=RequestIds(settings.key_hash_secret),
                redactor=PiiRedactor(),
                subjects=SubjectHasher(settings.key_hash_secret),
                metrics=metrics,
            ),
            cache=cache,
        )
    finally:
        if watcher is not None:
            await watcher.close()
        await checker.close()
        await proxy.drain()
        await ledger.close()
        await guardrails.close()
        if cache is not None:
            await cache.close()
        if request_log is not None:
            await request_log.close()
        await upstream.close()
        await limiter.close()
        await supervisor.close()
        await engine.dispose()
        tracing.shutdown()
        metrics.registry.unregister(gauges)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


def error_response(error: GatewayError) -> Response:
    """The one place a gateway error becomes an HTTP response."""
    return _json(error.body(), error.status, error.headers)


def unexpected_error(exc: Exception) -> Response:
    log.error("unexpected error", exc_info=exc)
    return error_response(GatewayError("The gateway failed unexpectedly.", code="internal_error"))


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    param = ".".join(loc) or None
    return f"Invalid value for '{param}': {first.get('msg', 'invalid')}", param


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def gateway_error(_: Request, exc: GatewayError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        message, param = _validation_message(exc)
        return error_response(InvalidRequest(message, param=param))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(NotFound("Unknown path.", code="unknown_url"))
        if exc.status_code == 405:
            return error_response(MethodNotAllowed(str(exc.detail), headers=exc.headers))
        error = InvalidRequest(str(exc.detail))
        error.status = exc.status_code
        return error_response(error)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        return unexpected_error(exc)


PROBES = frozenset({"/healthz", "/readyz"})
DEPENDENCY_PROBE_SECONDS = 1.0
"""How long ``/readyz`` waits on each shared dependency (it reports, never requires, them)."""
MAX_FEEDBACK_BYTES = 64 * 1024
OPENAI_POSTS = {
    "/v1/chat/completions": Endpoint.CHAT,
    "/v1/completions": Endpoint.COMPLETIONS,
    "/v1/embeddings": Endpoint.EMBEDDINGS,
}


class Gateway:
    """The ASGI app: the OpenAI POST endpoints go straight to the proxy (the hot path skips
    the framework's routing and middleware); everything else is the FastAPI app."""

    def __init__(self, api: FastAPI, admin_port: int | None = None) -> None:
        self.api = api
        self._admin_port = admin_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._admin_port is not None and not self._on_its_listener(scope):
            await error_response(NotFound("Unknown path.", code="unknown_url"))(
                scope, receive, send
            )
            return
        endpoint = OPENAI_POSTS.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None:
            await self.api(scope, receive, send)
            return
        try:
            response = await self._proxy(Request(scope, receive), endpoint)
        except GatewayError as e:
            response = error_response(e)
        except Exception as e:  # noqa: BLE001 (the hot path's last resort, like the app's handler)
            response = unexpected_error(e)
        await response(scope, receive, send)

    def _on_its_listener(self, scope: Scope) -> bool:
        """With an admin listener: ``/admin`` and ``/metrics`` only there, everything else
        but the probes only on the public one."""
        if scope["type"] != "http" or scope["path"] in PROBES:
            return True
        path: str = scope["path"]
        private = path in {"/metrics", "/admin"} or path.startswith("/admin/")
        server = scope.get("server")
        return private == (server is not None and server[1] == self._admin_port)

    async def _proxy(self, request: Request, endpoint: Endpoint) -> Response:
        if request.method != "POST":
            raise MethodNotAllowed(f"Use POST for {request.url.path}.", headers={"allow": "POST"})
        services: Services = self.api.state.services
        return await services.proxy.handle(request, endpoint)


def _install_openai_routes(app: FastAPI) -> None:
    @app.get("/v1/models", include_in_schema=False)
    async def models(request: Request) -> Response:
        proxy = request.app.state.services.proxy
        principal = await proxy.authenticate(request)
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "llmops"}
            for m in proxy.models_for(principal)
        ]
        return _json({"object": "list", "data": data})

    @app.post("/v1/feedback", include_in_schema=False)
    async def give_feedback(request: Request) -> Response:
        services: Services = request.app.state.services
        principal = await services.proxy.authenticate(request)
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_FEEDBACK_BYTES:
            raise BodyTooLarge(f"A feedback body is at most {MAX_FEEDBACK_BYTES} bytes.")
        body = await request.body()
        if len(body) > MAX_FEEDBACK_BYTES:
            raise BodyTooLarge(f"A feedback body is at most {MAX_FEEDBACK_BYTES} bytes.")
        stored = await services.feedback.submit(principal, feedback.parse(body))
        return Response(orjson.dumps(stored), 201, media_type="application/json")


def _probe_result(task: asyncio.Future[Any]) -> str:
    """What ``/readyz`` says of one dependency's probe."""
    if not task.done():
        _lingering.add(task)
        task.add_done_callback(_forget_probe)
        return "degraded: TimeoutError"
    if task.cancelled():
        return "degraded: CancelledError"
    error = task.exception()
    return "ok" if error is None else f"degraded: {type(error).__name__}"


_lingering: set[asyncio.Future[Any]] = set()
"""Probes that outlived their ``/readyz`` call, kept until they end."""


def _forget_probe(task: asyncio.Future[Any]) -> None:
    _lingering.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: a late failure is no unhandled error


def _install_ops_routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> Response:
        """Liveness: the loop answers, and no background loop has been failing for longer
        than a restart of the pod would take to fix it."""
        svc: Services | None = getattr(request.app.state, "services", None)
        grace = svc.settings.readiness.liveness_grace_seconds if svc else 0
        dead = svc.supervisor.failing_longer_than(grace) if svc else []
        if dead:
            return _json({"status": "failing", "loops": dead}, 503)
        return _json({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        """Readiness: what this pod can serve. Shared dependencies (the database, Redis,
        the cache store) are reported, not required: every pod shares them, and taking all
        of them out of the Service at once would turn clear 503 answers (or answers served
        from cached keys, or without limits under ``fail_open``) into refused
        connections. A background loop failing past the grace is this pod's own fault."""
        svc: Services = request.app.state.services
        probes = [("database", svc.store.ping), ("limits", svc.limiter.ping)]
        if svc.cache is not None:
            probes.append(("cache", svc.cache.ping))
        # All at once, for a second at most: the answer comes well within the kubelet's
        # probe timeout however many dependencies hang. A probe still running is left to
        # end on its own (cancelling one blocked on a dead host can itself block).
        tasks = [asyncio.ensure_future(probe()) for _, probe in probes]
        await asyncio.wait(tasks, timeout=DEPENDENCY_PROBE_SECONDS)
        checks = {name: _probe_result(task) for (name, _), task in zip(probes, tasks, strict=True)}
        failing = svc.supervisor.failing_longer_than(svc.settings.readiness.loop_grace_seconds)
        ready = not failing
        body = {
            "ready": ready,
            "degraded": any(v != "ok" for v in checks.values()),
            "checks": checks,
            "loops": svc.supervisor.report(),
        }
        return _json(body, 200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        svc: Services = request.app.state.services
        return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: GatewaySettings, *, embedder: Embedder | None = None) -> Gateway:
    """The gateway app. ``embedder`` serves the semantic cache instead of loading the
    model here (several apps in one process may share one)."""
    metrics = GatewayMetrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _services(settings, metrics, embedder) as services:
            app.state.services = services
            yield

    app = FastAPI(title="llmops gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    _install_error_handlers(app)
    _install_openai_routes(app)
    _install_ops_routes(app)
    app.include_router(admin.router)
    openapi.install(app)
    return Gateway(app, settings.admin_port)
