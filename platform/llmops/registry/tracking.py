"""One fine-tune run in MLflow tracking: params, per-step metrics, lineage tags, the adapter."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from mlflow.entities import Metric, Param, RunTag

from llmops.registry.store import ADAPTER_ARTIFACT, ModelRegistry

EXPERIMENT_PREFIX = "llmops-finetune-"


class RunLog:
    """A tracking run, started or resumed, written to through :class:`ModelRegistry`."""

    def __init__(self, registry: ModelRegistry, run_id: str) -> None:
        self.registry = registry
        self.run_id = run_id

    @classmethod
    def start(
        cls,
        registry: ModelRegistry,
        model_name: str,
        *,
        run_name: str,
        tags: Mapping[str, str],
        prefix: str = EXPERIMENT_PREFIX,
    ) -> RunLog:
        """A new run in the experiment ``prefix + model_name`` (created if new)."""
        client = registry.client
        experiment = prefix + model_name

        def create() -> str:
            found = client.get_experiment_by_name(experiment)
            experiment_id = found.experiment_id if found else client.create_experiment(experiment)
            run = client.create_run(experiment_id, run_name=run_name, tags=dict(tags))
            return str(run.info.run_id)

        return cls(registry, registry.call(f"starting a run in {experiment!r}", create))

    @classmethod
    def resume(cls, registry: ModelRegistry, run_id: str) -> RunLog:
        registry.call(
            f"resuming run {run_id}", lambda: registry.client.update_run(run_id, status="RUNNING")
        )
        return cls(registry, run_id)

    def log_params(self, params: Mapping[str, str]) -> None:
        batch = [Param(k, str(v)) for k, v in params.items()]
        self.registry.call(
            "logging params", lambda: self.registry.client.log_batch(self.run_id, params=batch)
        )

    def set_tags(self, tags: Mapping[str, str]) -> None:
        batch = [RunTag(k, str(v)) for k, v in tags.items()]
        self.registry.call(
            "tagging the run", lambda: self.registry.client.log_batch(self.run_id, tags=batch)
        )

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        now = int(time.time() * 1000)
        batch = [Metric(k, float(v), now, step) for k, v in metrics.items()]
        self.registry.call(
            "logging metrics", lambda: self.registry.client.log_batch(self.run_id, metrics=batch)
        )

    def log_adapter(self, adapter_dir: Path) -> str:
        """Upload the adapter's files; their artifact URI."""
        client = self.registry.client
        self.registry.call(
            "uploading the adapter",
            lambda: client.log_artifacts(self.run_id, str(adapter_dir), ADAPTER_ARTIFACT),
        )
        run = self.registry.call("reading the run", lambda: client.get_run(self.run_id))
        return f"{run.info.artifact_uri}/{ADAPTER_ARTIFACT}"

    def log_text(self, text: str, artifact_file: str) -> None:
        self.registry.call(
            f"uploading {artifact_file}",
            lambda: self.registry.client.log_text(self.run_id, text, artifact_file),
        )

    def log_table(self, columns: Mapping[str, list[object]], artifact_file: str) -> None:
        """Columns of equal length as a table artifact (MLflow's UI shows it as a table)."""
        self.registry.call(
            f"uploading {artifact_file}",
            lambda: self.registry.client.log_table(self.run_id, dict(columns), artifact_file),
        )

    def finish(self, *, failed: bool = False) -> None:
        status = "FAILED" if failed else "FINISHED"
        # MLflow prints the run's URL on stdout here; stdout carries only --json answers.
        with contextlib.redirect_stdout(sys.stderr):
            self.registry.call(
                "ending the run", lambda: self.registry.client.set_terminated(self.run_id, status)
            )
