"""The operator's metrics: ``llmops_finetune_jobs{phase}``,
``llmops_model_version_info{model,alias,version}`` and the drift figures of each
DriftMonitor's last check (``llmops_drift_share``, ``llmops_drift_detected``,
``llmops_drift_operational_detected``, ``llmops_drift_feature_score``: in a cluster the
checks run as short Jobs, so the operator, which reads their results, is the one that
keeps them), from what the handlers last saw."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

PHASES = ("Pending", "Queued", "Running", "Retrying", "Succeeded", "Failed")


@dataclass(frozen=True, slots=True)
class DriftFigures:
    deployment: str
    share: float | None
    detected: bool
    features: tuple[tuple[str, float], ...]
    operational: bool = False


class OperatorMetrics(Collector):
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.job_phases: dict[str, str] = {}
        """FineTuneJob (``namespace/name``) to its phase."""
        self.served: dict[str, list[tuple[str, str, str]]] = {}
        """ModelDeployment to its (model, alias, version) rows."""
        self.drift: dict[str, DriftFigures] = {}
        """DriftMonitor (``namespace/name``) to its last check's figures."""
        self.registry.register(self)
        self.placement_seconds = Histogram(
            "llmops_operator_placement_seconds",
            "Time to decide where a FineTuneJob goes (capacity snapshot and choice).",
            buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
            registry=self.registry,
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("llmops_finetune_jobs", "FineTuneJobs by phase.", labels=["phase"])
        counts = Counter(self.job_phases.values())
        for phase in PHASES:
            jobs.add_metric([phase], counts.get(phase, 0))
        yield jobs
        info = GaugeMetricFamily(
            "llmops_model_version_info",
            "Model versions served, by registry alias (1 while served).",
            labels=["model", "alias", "version"],
        )
        for rows in self.served.values():
            for model, alias, version in rows:
                info.add_metric([model, alias, version], 1)
        yield info
        yield from self._drift()

    def _drift(self) -> Iterator[GaugeMetricFamily]:
        share = GaugeMetricFamily(
            "llmops_drift_share",
            "Share of the data signals drifted at the last check.",
            labels=["deployment"],
        )
        detected = GaugeMetricFamily(
            "llmops_drift_detected",
            "1 when the last check found data drift (what users send changed).",
            labels=["deployment"],
        )
        operational = GaugeMetricFamily(
            "llmops_drift_operational_detected",
            "1 when the last check found operational drift (an alert, never a retrain).",
            labels=["deployment"],
        )
        scores = GaugeMetricFamily(
            "llmops_drift_feature_score",
            "Each signal's p-value at the last check.",
            labels=["deployment", "feature"],
        )
        for figures in self.drift.values():
            if figures.share is not None:
                share.add_metric([figures.deployment], figures.share)
            detected.add_metric([figures.deployment], 1.0 if figures.detected else 0.0)
            operational.add_metric([figures.deployment], 1.0 if figures.operational else 0.0)
            for feature, score in figures.features:
                scores.add_metric([figures.deployment, feature], score)
        yield share
        yield detected
        yield operational
        yield scores
