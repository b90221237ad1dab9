"""One drift check of one deployment: read both windows, compare, export, report."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from llmops.monitoring import drift, policy
from llmops.monitoring.drift import DriftCheckOptions, DriftResult
from llmops.monitoring.embeddings import Embedder
from llmops.monitoring.errors import MonitoringError
from llmops.monitoring.metrics import DriftMetrics
from llmops.monitoring.reader import RequestLogReader, Window
from llmops.monitoring.reports import MlflowReports, evidently_html
from llmops.monitoring.settings import DeploymentSettings
from llmops.requestlog.table import RequestRecord

log = logging.getLogger("llmops.monitoring")


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    deployment: str
    checked_at: datetime
    reference: Window
    current: Window
    reference_rows: int
    current_rows: int
    min_samples: int
    result: DriftResult | None
    """``None`` when a window had too few requests (nothing was compared)."""
    report_uri: str | None
    current_records: tuple[RequestRecord, ...]

    @property
    def enough_samples(self) -> bool:
        return self.result is not None

    @property
    def drifted(self) -> bool:
        """Data drift: what users send changed (the only drift that retrains)."""
        return bool(self.result and self.result.data_drifted)

    @property
    def operational_drift(self) -> bool:
        return bool(self.result and self.result.operational_drifted)

    def figures(self) -> policy.CheckFigures:
        return policy.CheckFigures(self.reference_rows, self.current_rows, self.drifted)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "deployment": self.deployment,
            "checked_at": self.checked_at.isoformat(),
            "reference_window": {
                "start": self.reference.start.isoformat(),
                "end": self.reference.end.isoformat(),
            },
            "current_window": {
                "start": self.current.start.isoformat(),
                "end": self.current.end.isoformat(),
            },
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "samples": self.current_rows,
            "min_samples": self.min_samples,
            "enough_samples": self.enough_samples,
            "drift_detected": self.drifted,
            "data_drift": self.drifted,
            "operational_drift": self.operational_drift,
            "drift_share": self.result.drift_share if self.result else None,
            "drifted_features": self.result.drifted_features if self.result else [],
            "summary": self.result.summary() if self.result else [],
            "features": self.result.as_dict()["features"] if self.result else [],
            "report_uri": self.report_uri,
        }
        return out


class DriftChecker:
    def __init__(
        self,
        reader: RequestLogReader,
        *,
        embedder: Embedder | None = None,
        metrics: DriftMetrics | None = None,
        reports: MlflowReports | None = None,
    ) -> None:
        self._reader = reader
        self._embedder = embedder
        self._metrics = metrics
        self._reports = reports

    async def check(
        self,
        deployment: DeploymentSettings,
        now: datetime,
        *,
        reference: Window | None = None,
        current: Window | None = None,
    ) -> CheckOutcome:
        """Check the deployment's windows: by default the last ``current_window`` and the
        ``reference_window`` before it; either can be given as absolute times instead."""
        if current is None:
            current = Window(now - timedelta(seconds=deployment.current_window), now)
        if reference is None:
            reference = Window(
                current.start - timedelta(seconds=deployment.reference_window), current.start
            )
        model = deployment.gateway_model
        most = deployment.max_rows
        ref_records = await self._reader.window(model, reference, limit=most, spread=True)
        cur_records = await self._reader.window(model, current, limit=most, spread=True)
        min_samples = deployment.policy.min_samples
        result: DriftResult | None = None
        report_uri: str | None = None
        if min(len(ref_records), len(cur_records)) >= min_samples:
            embedder = self._embedder if deployment.embeddings else None
            result = await asyncio.to_thread(
                drift.check, ref_records, cur_records, options(deployment), embedder
            )
            if self._reports is not None:
                report_uri = await self._report(deployment.name, result, ref_records, cur_records)
        if self._metrics is not None:
            self._metrics.export(deployment.name, result)
        return CheckOutcome(
            deployment=deployment.name,
            checked_at=now,
            reference=reference,
            current=current,
            reference_rows=len(ref_records),
            current_rows=len(cur_records),
            min_samples=min_samples,
            result=result,
            report_uri=report_uri,
            current_records=tuple(cur_records),
        )

    async def _report(
        self,
        deployment: str,
        result: DriftResult,
        reference: list[RequestRecord],
        current: list[RequestRecord],
    ) -> str | None:
        assert self._reports is not None
        reports = self._reports
        try:
            html = await asyncio.to_thread(evidently_html, reference, current)
            return await asyncio.to_thread(reports.log, deployment, result, html)
        except MonitoringError as e:
            log.warning("drift report not kept: %s", e)
        except Exception:  # the picture failing must not lose the check's verdict
            log.exception("drift report not drawn")
        return None


def options(deployment: DeploymentSettings) -> DriftCheckOptions:
    """The check's options from a deployment's settings."""
    t = deployment.policy.thresholds
    return DriftCheckOptions(
        alpha=t.feature_score,
        drift_share=t.drift_share,
        min_length_change=t.min_length_change,
        min_share_change=t.min_share_change,
        min_latency_change=t.min_latency_change,
        min_rate_change=t.min_rate_change,
        embedding_sample=deployment.embedding_sample,
        only=tuple(deployment.features or ()),
    )
