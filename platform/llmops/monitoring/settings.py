"""The drift monitor's settings: one typed object built at the entry point.

Loaded by ``llmops drift check`` and ``llmops drift monitor`` (and built by
``llmops up``) from a YAML file overlaid with ``LLMOPS_`` variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmops import settings as core_settings
from llmops.errors import ConfigError
from llmops.monitoring import canary, policy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThresholdSettings(_Strict):
    feature_score: Annotated[float, Field(gt=0, lt=1)] = 0.05
    drift_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    embedding_drift_counts: bool = True


class PolicySettings(_Strict):
    thresholds: ThresholdSettings = ThresholdSettings()
    min_samples: Annotated[int, Field(ge=2)] = 100
    cooldown_seconds: Annotated[float, Field(ge=0)] = 6 * 3600
    budget: Annotated[int, Field(ge=0)] = 3
    budget_period_seconds: Annotated[float, Field(gt=0)] = 24 * 3600

    def policy(self) -> policy.RetrainPolicy:
        t = self.thresholds
        return policy.RetrainPolicy(
            thresholds=policy.Thresholds(
                feature_score=t.feature_score,
                drift_share=t.drift_share,
                embedding_drift_counts=t.embedding_drift_counts,
            ),
            min_samples=self.min_samples,
            cooldown=timedelta(seconds=self.cooldown_seconds),
            budget=self.budget,
            budget_period=timedelta(seconds=self.budget_period_seconds),
        )


class FineTuneTemplate(_Strict):
    """The fine-tune started on drift (the ``llmops finetune run`` options)."""

    base: str = "bundled:smollm2"
    data: list[Path] = Field(default_factory=list)
    """The original training set(s); the drifted window's requests are added to them."""
    eval: Path | None = None
    max_steps: Annotated[int, Field(ge=1)] | None = None
    epochs: Annotated[float, Field(gt=0)] | None = None
    learning_rate: Annotated[float, Field(gt=0)] | None = None
    batch_size: Annotated[int, Field(ge=1)] | None = None
    max_seq_len: Annotated[int, Field(ge=8)] | None = None
    lora_r: Annotated[int, Field(ge=1)] | None = None
    seed: int | None = None
    max_window_rows: Annotated[int, Field(ge=1)] = 2000
    """The most requests of the drifted window added to the training data."""


class CanarySettings(_Strict):
    weight: Annotated[float, Field(gt=0, lt=1)] = 0.1
    """The challenger's share of the traffic."""
    upstreams: list[str] = Field(default_factory=list)
    """Replicas that serve the challenger alias (in Kubernetes the operator's canary)."""
    gates: list[str] = Field(default_factory=lambda: ["eval_loss<=champion"])
    soak_seconds: Annotated[float, Field(ge=0)] = 1800
    min_requests: Annotated[int, Field(ge=0)] = 20
    error_rate_margin: Annotated[float, Field(ge=0)] = 0.02
    latency_ratio: Annotated[float, Field(ge=1)] = 1.5
    quality_margin: Annotated[float, Field(ge=0)] = 0.1

    def rules(self) -> canary.CanaryRules:
        return canary.CanaryRules(
            soak=timedelta(seconds=self.soak_seconds),
            min_requests=self.min_requests,
            error_rate_margin=self.error_rate_margin,
            latency_ratio=self.latency_ratio,
            quality_margin=self.quality_margin,
        )


class DeploymentSettings(_Strict):
    """One monitored deployment: the gateway's model name and its registered model."""

    name: Annotated[str, Field(min_length=1)]
    model: str | None = None
    """The model name clients send through the gateway (default: ``name``)."""
    registered_model: str | None = None
    """The model in the registry that retraining registers to (default: ``name``)."""
    champion_upstreams: list[str] = Field(default_factory=list)
    """Replicas of the champion, written to the routes file beside the canary."""
    reference_seconds: Annotated[float, Field(gt=0)] = 24 * 3600
    current_seconds: Annotated[float, Field(gt=0)] = 3600
    """The current window is the last ``current_seconds``; the reference window is the
    ``reference_seconds`` before it."""
    policy: PolicySettings = PolicySettings()
    embeddings: bool = True
    """Compare prompt embeddings (MiniLM) besides the figures and text descriptors."""
    retrain: FineTuneTemplate | None = None
    """What to fine-tune on drift; without it drift is only reported."""
    canary: CanarySettings = CanarySettings()

    @property
    def gateway_model(self) -> str:
        return self.model or self.name

    @property
    def registry_name(self) -> str:
        return self.registered_model or self.name


class MonitorSettings(_Strict):
    database_url: str = "sqlite:///.llmops/gateway.db"
    """The gateway's database, which holds the request log."""
    tracking_uri: str | None = None
    """MLflow: reports are logged there (and fine-tunes register there)."""
    experiment: str = "llmops-drift"
    interval_seconds: Annotated[float, Field(gt=0)] = 300
    routes_file: Path | None = None
    """The gateway's routes file; canaries are written there."""
    state_dir: Path = Path(".llmops/drift")
    """Policy state, exported windows and reports between checks."""
    deployments: list[DeploymentSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> MonitorSettings:
        names = [d.name for d in self.deployments]
        if len(set(names)) != len(names):
            raise ValueError("deployment names must be unique")
        return self

    def deployment(self, name: str) -> DeploymentSettings | None:
        return next((d for d in self.deployments if d.name == name), None)


ENV_PREFIX = "LLMOPS_DRIFT__"
"""The monitor's variables: ``LLMOPS_DRIFT__INTERVAL_SECONDS=60`` (its own prefix, as
the gateway's ``LLMOPS_`` variables may share its environment)."""


def load(
    path: Path | None, environ: Mapping[str, str] | None = None, **overrides: object
) -> MonitorSettings:
    """Settings from a YAML file, ``LLMOPS_DRIFT__`` variables and command-line overrides."""
    data = core_settings.read_yaml(path) if path is not None else {}
    data = core_settings.overlay_environment(
        data, os.environ if environ is None else environ, prefix=ENV_PREFIX
    )
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return MonitorSettings.model_validate(data)
    except ValidationError as e:
        where = f" in {path}" if path is not None else ""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in e.errors()
        )
        raise ConfigError(f"invalid drift monitor settings{where}: {problems}") from e
