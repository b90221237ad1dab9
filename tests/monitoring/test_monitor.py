"""The monitor acts on data drift only: a slower system raises the operational alert
and never starts a retrain."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from llmops.monitoring.checker import CheckOutcome, DriftChecker
from llmops.monitoring.metrics import DriftMetrics
from llmops.monitoring.monitor import DriftMonitor, PolicyStore
from llmops.monitoring.policy import Verdict
from llmops.monitoring.reader import RequestLogReader, Window, engine_for
from llmops.monitoring.settings import MonitorSettings
from tests.monitoring.test_cli import write_log
from tests.support.traffic import records


def tick(sqlite_url: str, state: Path, now: datetime) -> tuple[DriftMonitor, DriftMetrics]:
    settings = MonitorSettings.model_validate(
        {
            "database_url": sqlite_url,
            "state_dir": str(state),
            "deployments": [
                {
                    "name": "smollm2",
                    "reference_window": "1h",
                    "current_window": "10m",
                    "embeddings": False,
                    "policy": {"min_samples": 100},
                }
            ],
        }
    )
    metrics = DriftMetrics()

    async def run() -> DriftMonitor:
        reader = RequestLogReader(engine_for(sqlite_url))
        try:
            monitor = DriftMonitor(
                settings, DriftChecker(reader, metrics=metrics), {}, PolicyStore(state)
            )
            await monitor.tick(now)
            return monitor
        finally:
            await reader.close()

    return asyncio.run(run()), metrics


def gauge(metrics: DriftMetrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name, {"deployment": "smollm2"})


def test_latency_drift_alone_alerts_and_never_retrains(sqlite_url: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    write_log(
        sqlite_url,
        records(150, seed=1, start=now - timedelta(minutes=50))
        + records(150, seed=2, slower=3.0, start=now - timedelta(minutes=5)),
    )
    monitor, metrics = tick(sqlite_url, tmp_path / "state", now)
    outcome, decision = monitor.history[-1]
    assert outcome.operational_drift and not outcome.drifted, outcome.as_json()
    assert decision.verdict is Verdict.NO_DRIFT and not decision.retrain
    assert gauge(metrics, "llmops_drift_operational_detected") == 1.0
    assert gauge(metrics, "llmops_drift_detected") == 0.0


def test_data_drift_is_a_retrain_verdict(sqlite_url: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    write_log(
        sqlite_url,
        records(150, seed=1, start=now - timedelta(minutes=50))
        + records(150, seed=2, other="french", start=now - timedelta(minutes=5)),
    )
    monitor, metrics = tick(sqlite_url, tmp_path / "state", now)
    outcome, decision = monitor.history[-1]
    assert outcome.drifted and decision.verdict is Verdict.RETRAIN, outcome.as_json()
    assert gauge(metrics, "llmops_drift_detected") == 1.0


def test_a_window_past_max_rows_is_read_as_a_sample_across_it(sqlite_url: str) -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    rows = records(400, seed=1, start=start)  # one a second
    write_log(sqlite_url, rows)
    deployment = MonitorSettings().deployment("smollm2").model_copy(update={"max_rows": 100})
    window = Window(start, start + timedelta(seconds=400))

    async def run() -> CheckOutcome:
        reader = RequestLogReader(engine_for(sqlite_url))
        try:
            return await DriftChecker(reader).check(
                deployment, start, reference=window, current=window
            )
        finally:
            await reader.close()

    outcome = asyncio.run(run())
    assert outcome.reference_rows == outcome.current_rows == 100
    times = [r.at.replace(tzinfo=UTC) for r in outcome.current_records]
    assert times == sorted(times)
    assert times[0] < start + timedelta(seconds=100) and times[-1] > start + timedelta(seconds=300)
