"""Drift reports kept in MLflow: a run per check with its figures and the HTML report."""

from __future__ import annotations

from dataclasses import dataclass

from llmops.monitoring.drift import DriftResult
from llmops.monitoring.errors import MonitoringError


@dataclass(frozen=True, slots=True)
class MlflowReports:
    tracking_uri: str
    experiment: str = "llmops-drift"

    def log(self, deployment: str, result: DriftResult, drifted: bool) -> str:
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
                tags={"llmops.deployment": deployment, "llmops.drift_detected": str(drifted)},
            )
            run_id = run.info.run_id
            client.log_metric(run_id, "drift_share", result.drift_share)
            client.log_metric(run_id, "reference_rows", result.reference_rows)
            client.log_metric(run_id, "current_rows", result.current_rows)
            for f in result.all_features:
                client.log_metric(run_id, f"score.{f.feature}", f.score)
            client.log_text(run_id, result.html, "drift_report.html")
            client.set_terminated(run_id)
        except MlflowException as e:
            raise MonitoringError(f"cannot log the drift report to MLflow: {e}") from e
        return f"{run.info.artifact_uri}/drift_report.html"
