"""Drift reports kept in MLflow: a run per check with its figures, its verdict in words
and an HTML picture of both windows drawn by Evidently."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from llmops.monitoring import features
from llmops.monitoring.drift import DriftResult
from llmops.monitoring.errors import MonitoringError
from llmops.requestlog.table import RequestRecord


def evidently_html(reference: Sequence[RequestRecord], current: Sequence[RequestRecord]) -> str:
    """Evidently's data drift report of every signal but the topic, with the same tests
    the check ran (Kolmogorov-Smirnov for numbers, chi-square for labels) at the usual
    0.05 (its verdicts are uncorrected: the check's own are the ones that count)."""
    with warnings.catch_warnings():
        # Evidently 0.7 touches numpy.core and divides by zero on constant columns.
        for category in (DeprecationWarning, RuntimeWarning, FutureWarning, UserWarning):
            warnings.simplefilter("ignore", category)
        from evidently import DataDefinition, Dataset, Report  # noqa: PLC0415 (slow import)
        from evidently.presets import DataDriftPreset  # noqa: PLC0415

        ref, cur = features.frame(reference), features.frame(current)
        kept = [c for c in ref.columns if ref[c].notna().any() and cur[c].notna().any()]
        numbers = [c for c in kept if c in features.NUMBERS]
        labels = [c for c in kept if c in features.LABELS]
        definition = DataDefinition(numerical_columns=numbers, categorical_columns=labels)
        preset = DataDriftPreset(
            columns=kept,
            per_column_method={
                **dict.fromkeys(numbers, "ks"),
                **dict.fromkeys(labels, "chisquare"),
            },
        )
        snapshot = Report([preset], include_tests=True).run(
            current_data=Dataset.from_pandas(cur[kept], data_definition=definition),
            reference_data=Dataset.from_pandas(ref[kept], data_definition=definition),
        )
        return str(snapshot.get_html_str(as_iframe=False))


@dataclass(frozen=True, slots=True)
class MlflowReports:
    tracking_uri: str
    experiment: str = "llmops-drift"

    def log(self, deployment: str, result: DriftResult, html: str) -> str:
        """Log one check (blocking); the report's artifact URI."""
        import mlflow  # noqa: PLC0415 (slow import, only where reports are kept)
        from mlflow.exceptions import MlflowException  # noqa: PLC0415

        client = mlflow.MlflowClient(tracking_uri=self.tracking_uri)
        try:
            found = client.get_experiment_by_name(self.experiment)
            experiment_id = (
                found.experiment_id if found else client.create_experiment(self.experiment)
            )
            run = client.create_run(
                experiment_id,
                run_name=f"drift-{deployment}",
                tags={
                    "llmops.deployment": deployment,
                    "llmops.drift_detected": str(result.data_drifted),
                    "llmops.operational_drift": str(result.operational_drifted),
                },
            )
            run_id = run.info.run_id
            client.log_metric(run_id, "drift_share", result.drift_share)
            client.log_metric(run_id, "reference_rows", result.reference_rows)
            client.log_metric(run_id, "current_rows", result.current_rows)
            for s in result.signals:
                if s.p_value is not None:
                    client.log_metric(run_id, f"p_value.{s.name}", s.p_value)
                if s.effect is not None:
                    client.log_metric(run_id, f"effect.{s.name}", s.effect)
            client.log_text(run_id, "\n".join(result.summary()) + "\n", "drift_summary.txt")
            client.log_text(run_id, json.dumps(result.as_dict(), indent=2), "drift_result.json")
            client.log_text(run_id, html, "drift_report.html")
            client.set_terminated(run_id)
        except MlflowException as e:
            raise MonitoringError(f"cannot log the drift report to MLflow: {e}") from e
        return f"{run.info.artifact_uri}/drift_report.html"
