"""The drift metrics (DESIGN.md §4): ``llmops_drift_share``, ``llmops_drift_feature_score``
and ``llmops_drift_detected`` (data drift), and ``llmops_drift_operational_detected``,
by deployment, in the monitor's own registry."""

from __future__ import annotations

import contextlib

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
            "Each signal's p-value at the last check (drift needs it small and a large effect).",
            ["deployment", "feature"],
            registry=self.registry,
        )
        self.detected = Gauge(
            "llmops_drift_detected",
            "1 when the last check found data drift (what users send changed), else 0.",
            ["deployment"],
            registry=self.registry,
        )
        self.operational = Gauge(
            "llmops_drift_operational_detected",
            "1 when the last check found operational drift (latency, errors, cache hits: "
            "an alert, never a retrain), else 0.",
            ["deployment"],
            registry=self.registry,
        )

    def export(self, deployment: str, result: DriftResult | None) -> None:
        self.detected.labels(deployment).set(1.0 if result and result.data_drifted else 0.0)
        self.operational.labels(deployment).set(
            1.0 if result and result.operational_drifted else 0.0
        )
        if result is None:
            return
        self.share.labels(deployment).set(result.drift_share)
        for signal in result.signals:
            if signal.p_value is not None:
                self.feature_score.labels(deployment, signal.name).set(signal.p_value)
            else:  # not tested this time: no stale figure from an earlier check
                with contextlib.suppress(KeyError):
                    self.feature_score.remove(deployment, signal.name)
