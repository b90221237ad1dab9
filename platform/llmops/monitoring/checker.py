"""One drift check of one deployment: read both windows, compare, export, report."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from llmops.monitoring import drift, policy
from llmops.monitoring.drift import DriftCheckOptions, DriftResult
from llmops.monitoring.embeddings import Embedder
from llmops.monitoring.errors import MonitoringError
from llmops.monitoring.metrics import DriftMetrics
from llmops.monitoring.reader import RequestLogReader, Window
from llmops.monitoring.reports import MlflowReports
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
    drifted: bool
    report_uri: str | None
    current_records: tuple[RequestRecord, ...]

    @property
    def enough_samples(self) -> bool:
        return self.result is not None

    def figures(self) -> policy.CheckFigures:
        return policy.CheckFigures(
            reference_rows=self.reference_rows,
            current_rows=self.current_rows,
            drift_share=self.result.drift_share if self.result else 0.0,
            embedding_drifted=bool(
                self.result and self.result.embedding and self.result.embedding.drifted
            ),
        )

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
            "drift_share": self.result.drift_share if self.result else None,
            "drifted_features": self.result.drifted_features if self.result else [],
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

    async def check(self, deployment: DeploymentSettings, now: datetime) -> CheckOutcome:
        current = Window(now - timedelta(seconds=deployment.current_window), now)
        reference = Window(
            current.start - timedelta(seconds=deployment.reference_window), current.start
        )
        model = deployment.gateway_model
        ref_records = await self._reader.window(model, reference)
        cur_records = await self._reader.window(model, current)
        rules = deployment.policy.policy()
        result: DriftResult | None = None
        drifted = False
        report_uri: str | None = None
        if min(len(ref_records), len(cur_records)) >= rules.min_samples:
            options = DriftCheckOptions(
                feature_threshold=rules.thresholds.feature_score,
                drift_share=rules.thresholds.drift_share,
                embedding_sample=deployment.embedding_sample,
            )
            embedder = self._embedder if deployment.embeddings else None
            result = await asyncio.to_thread(
                drift.check, ref_records, cur_records, options, embedder
            )
            result = _only(result, deployment.features)
            figures = policy.CheckFigures(
                len(ref_records),
                len(cur_records),
                result.drift_share,
                bool(result.embedding and result.embedding.drifted),
            )
            drifted = policy.is_drifted(figures, rules.thresholds)
            if self._reports is not None:
                try:
                    report_uri = await asyncio.to_thread(
                        self._reports.log, deployment.name, result, drifted
                    )
                except MonitoringError as e:
                    log.warning("drift report not kept: %s", e)
        if self._metrics is not None:
            self._metrics.export(deployment.name, result, drifted)
        return CheckOutcome(
            deployment=deployment.name,
            checked_at=now,
            reference=reference,
            current=current,
            reference_rows=len(ref_records),
            current_rows=len(cur_records),
            min_samples=rules.min_samples,
            result=result,
            drifted=drifted,
            report_uri=report_uri,
            current_records=tuple(cur_records),
        )


def _only(result: DriftResult, features: list[str] | None) -> DriftResult:
    """The result with only the chosen features counted in the share."""
    if not features:
        return result
    kept = tuple(f for f in result.features if f.feature in features)
    share = sum(f.drifted for f in kept) / len(kept) if kept else 0.0
    embedding = result.embedding if drift.EMBEDDING_FEATURE in features else None
    return replace(result, features=kept, drift_share=share, embedding=embedding)
