"""Building and running the operator: one kopf registry, one context, no globals."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import kopf
from prometheus_client import start_http_server

from operators import kube, labels
from operators.config import OperatorConfig
from operators.context import Context
from operators.handlers import cluster, drift, finetune, serving
from operators.metrics import OperatorMetrics
from operators.registry import MlflowResolver, VersionResolver

log = logging.getLogger("llmops.operator")


def connection_info(config: OperatorConfig, **kwargs: Any) -> kopf.ConnectionInfo | None:
    """The API server: the configured one, else in-cluster, else the kubeconfig."""
    if config.kubernetes.server:
        return kopf.ConnectionInfo(
            server=config.kubernetes.server, insecure=config.kubernetes.insecure or None
        )
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


async def _prefill(ctx: Context) -> None:
    """Capacity as it is before any handler places anything (watches keep it current)."""
    for node in await ctx.kube.list(kube.NODES):
        cluster.see_node(ctx.cluster, "ADDED", node)  # type: ignore[arg-type]
    for pod in await ctx.kube.list(kube.PODS, ctx.config.namespace):
        cluster.see_pod(ctx.cluster, "ADDED", pod)  # type: ignore[arg-type]
    for job in await ctx.kube.list(kube.JOBS, ctx.config.namespace):
        if (job["metadata"].get("labels") or {}).get(labels.NODE_POOL) is not None:
            cluster.see_job(ctx.cluster, "ADDED", job)  # type: ignore[arg-type]


def build_registry(
    config: OperatorConfig, resolver: VersionResolver | None = None
) -> kopf.OperatorRegistry:
    """Every handler, registered on a registry of its own."""
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        return connection_info(config, **kwargs)

    @kopf.on.startup(registry=registry)
    async def startup(
        settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **kwargs: Any
    ) -> None:
        settings.posting.enabled = config.kubernetes.post_events
        settings.persistence.finalizer = "llmops.io/operator"
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="llmops.io")
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="llmops.io")
        settings.watching.server_timeout = 300
        # Handlers are level-triggered (a restart converges), so a stopping operator need
        # not wait for queues to drain: it stops in about a second instead of seven.
        settings.queueing.idle_timeout = 1.0
        settings.queueing.exit_timeout = 0.5
        info = connection_info(config, settings=settings, logger=logger, **kwargs)
        if info is None:
            raise kopf.PermanentError("no Kubernetes API server to talk to")
        client = kube.Kube(
            kube.Connection(
                info.server,
                info.token,
                str(info.ca_path) if info.ca_path else None,
                bool(info.insecure),
            )
        )
        await client.open()
        own_resolver = resolver is None
        chosen: VersionResolver = resolver or MlflowResolver(config.mlflow.tracking_uri)
        if isinstance(chosen, MlflowResolver) and own_resolver:
            await chosen.open()
        metrics = OperatorMetrics()
        memo.ctx = Context(config=config, kube=client, resolver=chosen, metrics=metrics)
        memo.own_resolver = own_resolver
        await _prefill(memo.ctx)
        if config.metrics_port:
            start_http_server(config.metrics_port, registry=metrics.registry)

    @kopf.on.cleanup(registry=registry)
    async def cleanup(memo: kopf.Memo, **_: Any) -> None:
        ctx: Context | None = getattr(memo, "ctx", None)
        if ctx is None:
            return
        await ctx.kube.close()
        if memo.own_resolver and isinstance(ctx.resolver, MlflowResolver):
            await ctx.resolver.close()

    cluster.register(registry)
    finetune.register(registry, config)
    serving.register(registry, config)
    drift.register(registry)
    return registry


async def run(
    config: OperatorConfig,
    *,
    resolver: VersionResolver | None = None,
    memo: kopf.Memo | None = None,
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
) -> None:
    """Run until stopped: all namespaces, or ``config.namespace`` only."""
    await kopf.operator(
        registry=build_registry(config, resolver),
        clusterwide=config.namespace is None,
        namespaces=[config.namespace] if config.namespace else (),
        standalone=True,
        memo=memo if memo is not None else kopf.Memo(),
        stop_flag=stop_flag,
        ready_flag=ready_flag,
    )
