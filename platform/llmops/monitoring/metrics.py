"""The drift metrics (DESIGN.md §4): ``llmops_drift_share``, ``llmops_drift_feature_score``
and ``llmops_drift_detected``, by deployment, in the monitor's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from llmops.monitoring.drift import DriftResult


class DriftMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.share = Gauge(
            "llmops_drift_share",
            "Share of the deployment's features that drifted at the last check.",
            ["deployment"],
            registry=self.registry,
        )
        self.feature_score = Gauge(
            "llmops_drift_feature_score",
            "Each feature's drift score at the last check (test p-value or distance).",
            ["deployment", "feature"],
            registry=self.registry,
        )
        self.detected = Gauge(
            "llmops_drift_detected",
            "1 when the last check found drift past the thresholds, else 0.",
            ["deployment"],
            registry=self.registry,
        )

    def export(self, deployment: str, result: DriftResult | None, drifted: bool) -> None:
        self.detected.labels(deployment).set(1.0 if drifted else 0.0)
        if result is None:
            return
        self.share.labels(deployment).set(result.drift_share)
        for feature in result.all_features:
            self.feature_score.labels(deployment, feature.feature).set(feature.score)
