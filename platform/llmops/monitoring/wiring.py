"""Builds a drift monitor from its settings (the entry point's composition)."""

from __future__ import annotations

import asyncio
import signal
import sys

from prometheus_client import start_http_server

from llmops.monitoring.checker import DriftChecker
from llmops.monitoring.embeddings import MiniLMEmbedder
from llmops.monitoring.executor import CliRegistry, CliRunner, LocalExecutor
from llmops.monitoring.feedback_loop import FeedbackLoop
from llmops.monitoring.metrics import DriftMetrics
from llmops.monitoring.monitor import DriftMonitor, PolicyStore
from llmops.monitoring.probe import ChatProbe
from llmops.monitoring.reader import RequestLogReader, engine_for
from llmops.monitoring.reports import MlflowReports
from llmops.monitoring.retrain import RetrainLoop
from llmops.monitoring.routes import RoutesFile
from llmops.monitoring.settings import MonitorSettings


def build(
    settings: MonitorSettings, reader: RequestLogReader, metrics: DriftMetrics
) -> DriftMonitor:
    needs_embeddings = any(d.embeddings for d in settings.deployments)
    checker = DriftChecker(
        reader,
        embedder=MiniLMEmbedder() if needs_embeddings else None,
        metrics=metrics,
        reports=MlflowReports(settings.tracking_uri, settings.experiment)
        if settings.tracking_uri
        else None,
    )
    runner = CliRunner(
        command=(sys.executable, "-m", "llmops.cli"),
        tracking_uri=settings.tracking_uri,
        log_dir=settings.state_dir / "logs",
    )
    routes = RoutesFile(settings.routes_file) if settings.routes_file else None
    loops = {
        d.name: RetrainLoop(
            d,
            executor=LocalExecutor(runner),
            registry=CliRegistry(runner),
            reader=reader,
            work_dir=settings.state_dir / d.name,
            routes=routes,
            probe=ChatProbe(d.gateway_model, d.canary.probe) if d.canary.probe else None,
        )
        for d in settings.deployments
        if d.retrain is not None or d.feedback is not None
    }
    second = {
        d.name: FeedbackLoop(
            d,
            retrain=loops[d.name],
            executor=LocalExecutor(runner),
            registry=CliRegistry(runner),
            reader=reader,
            engine=reader.engine,
            work_dir=settings.state_dir / d.name,
            routes=routes,
        )
        for d in settings.deployments
        if d.feedback is not None
    }
    return DriftMonitor(settings, checker, loops, PolicyStore(settings.state_dir), second)


async def run_monitor(settings: MonitorSettings, *, metrics_port: int | None, once: bool) -> None:
    metrics = DriftMetrics()
    if metrics_port is not None:
        start_http_server(metrics_port, addr="127.0.0.1", registry=metrics.registry)
    reader = RequestLogReader(engine_for(settings.database_url))
    monitor = build(settings, reader, metrics)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if once:
            await monitor.tick()
        else:
            await monitor.run(stop)
    finally:
        await reader.close()
