"""The drift monitor's settings: one typed object built at the entry point.

Loaded by ``llmops drift check`` and ``llmops drift monitor`` (and built by
``llmops up``) from a YAML file overlaid with ``LLMOPS_`` variables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from llmops import settings as core_settings
from llmops.monitoring import canary, policy
from llmops.monitoring.signals import Name

if TYPE_CHECKING:
    from llmops.monitoring.shadow import ShadowRules

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(value: object) -> object:
    """``90``, ``"90s"``, ``"30m"``, ``"24h"`` or ``"7d"`` as seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration like 30m, 24h or 7d")
        return float(match[1]) * _UNITS[match[2]]
    return value


Seconds = Annotated[float, BeforeValidator(_seconds), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThresholdSettings(_Strict):
    """When a signal drifts: its p-value under ``feature_score`` after Holm's correction
    over the signals of its kind, and its effect at least the ``min_*`` for it."""

    feature_score: Annotated[float, Field(gt=0, lt=1)] = 0.01
    """The chance per check of calling drift between two windows of the same traffic (a
    monitor checking every 15 minutes makes 96 checks a day)."""
    drift_share: Annotated[float, Field(gt=0, le=1)] = 0.2
    """The share of the data signals tested that must drift (0.2: any one of five)."""
    min_length_change: Annotated[float, Field(ge=0, le=1)] = 0.1
    """Prompt or completion lengths: the least Kolmogorov-Smirnov statistic."""
    min_share_change: Annotated[float, Field(ge=0, le=1)] = 0.03
    """The language mix or the refusal rate: the least share of traffic changing label."""
    min_latency_change: Annotated[float, Field(ge=0)] = 0.25
    """Latency or time to first token: the least relative change of the median or p95."""
    min_rate_change: Annotated[float, Field(ge=0, le=1)] = 0.02
    """The error rate or the cache hit rate: the least change."""


class PolicySettings(_Strict):
    thresholds: ThresholdSettings = ThresholdSettings()
    min_samples: Annotated[int, Field(ge=2)] = 100
    cooldown_seconds: Annotated[float, Field(ge=0)] = 6 * 3600
    budget: Annotated[int, Field(ge=0)] = 3
    budget_period_seconds: Annotated[float, Field(gt=0)] = 24 * 3600

    def policy(self) -> policy.RetrainPolicy:
        return policy.RetrainPolicy(
            min_samples=self.min_samples,
            cooldown=timedelta(seconds=self.cooldown_seconds),
            budget=self.budget,
            budget_period=timedelta(seconds=self.budget_period_seconds),
        )


class FineTuneTemplate(_Strict):
    """The fine-tune started on drift: ``llmops finetune run`` with these options."""

    base: str = "bundled:smollm2"
    data: list[Path] = Field(default_factory=list)
    """The original training set(s); the drifted window's requests are added to them."""
    eval: Path | None = None
    options: dict[str, str | int | float] = Field(default_factory=dict)
    """Further options by name: ``{max-steps: 20, learning-rate: 3e-4}``."""
    max_window_rows: Annotated[int, Field(ge=1)] = 2000
    """The most requests of the drifted window added to the training data."""


class ProbeCase(_Strict):
    prompt: str
    expect: str
    """Text the answer must contain (case-insensitive)."""


class CanarySettings(_Strict):
    weight: Annotated[float, Field(gt=0, lt=1)] = 0.1
    """The challenger's share of the traffic."""
    upstreams: list[str] = Field(default_factory=list)
    """Replicas that serve the challenger alias (in Kubernetes the operator's canary)."""
    gates: list[str] = Field(default_factory=lambda: ["eval_loss<=champion"])
    suite: Path | None = None
    """An evaluation suite the new version answers, against the champion, before the gates:
    its own gates must pass, and its figures (``eval.SUITE.METRIC``) are what ``gates``
    can name (``eval.support.win_rate>=0.55``)."""
    champion_version: str = "champion"
    """The champion's version name in the routes file (and so in the request log)."""
    probe: list[ProbeCase] = Field(default_factory=list)
    """Prompts sent to each version's replicas during the canary: the share answered
    with the expected text is the version's quality."""
    soak_seconds: Annotated[float, Field(ge=0)] = 1800
    min_requests: Annotated[int, Field(ge=0)] = 20
    error_rate_margin: Annotated[float, Field(ge=0)] = 0.02
    latency_ratio: Annotated[float, Field(ge=1)] = 1.5
    latency_floor_ms: Annotated[float, Field(ge=0)] = 50.0
    quality_margin: Annotated[float, Field(ge=0)] = 0.1

    def rules(self) -> canary.CanaryRules:
        return canary.CanaryRules(
            soak=timedelta(seconds=self.soak_seconds),
            min_requests=self.min_requests,
            error_rate_margin=self.error_rate_margin,
            latency_ratio=self.latency_ratio,
            latency_floor_ms=self.latency_floor_ms,
            quality_margin=self.quality_margin,
        )


class FeedbackSettings(_Strict):
    """The second loop: users' feedback, preference pairs, a DPO retrain, the gates, a
    shadow period, then the canary (``canary``) and promotion or rollback."""

    min_new: Annotated[int, Field(ge=1)] = 50
    """Feedback items given since the last feedback retrain before another starts."""
    min_pairs: Annotated[int, Field(ge=2)] = 8
    cooldown: Seconds = 24 * 3600
    base: str | None = None
    """The model the DPO adapter is trained on (default: ``models:/NAME@champion``)."""
    eval: Path | None = None
    """Held-out preference pairs for the fine-tune's figures (default: a tenth of them)."""
    options: dict[str, str | int | float] = Field(default_factory=dict)
    """Further ``llmops finetune run`` options (``max-steps``, ``beta``, ...)."""
    suite: Path | None = None
    """An evaluation suite (for example held-out pairs, ``pairwise: {by: preference}``)
    answered against the champion before the gates."""
    against: str | None = None
    """What the suite compares with (default: ``models:/NAME@champion``; a champion that is
    not a registered version, such as ``bundled:smollm2``, is named here)."""
    gates: list[str] = Field(default_factory=lambda: ["reward_margin>0"])
    shadow_upstreams: list[str] = Field(default_factory=list)
    """Replicas serving the challenger alias to mirror traffic to (none: no shadow period,
    straight to the canary)."""
    shadow_share: Annotated[float, Field(gt=0, le=1)] = 1.0
    shadow_seconds: Seconds = 1800
    min_shadow_requests: Annotated[int, Field(ge=1)] = 20
    min_agreement: Annotated[float, Field(ge=0, le=1)] = 0.0
    """Least agreement of the shadow's answers with the champion's (ROUGE-L F1)."""
    max_latency_ratio: Annotated[float, Field(ge=1)] = 2.0
    error_rate_margin: Annotated[float, Field(ge=0)] = 0.02

    def shadow_rules(self) -> ShadowRules:
        from llmops.monitoring.shadow import ShadowRules  # noqa: PLC0415 (loads text scoring)

        return ShadowRules(
            self.min_shadow_requests,
            self.min_agreement,
            self.max_latency_ratio,
            self.error_rate_margin,
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
    reference_window: Seconds = 24 * 3600
    current_window: Seconds = 3600
    """The current window is the last ``current_window`` (seconds, or ``30m``, ``1h``);
    the reference window is the ``reference_window`` before it."""
    policy: PolicySettings = PolicySettings()
    embeddings: bool = True
    """Test the topic of the prompts (MiniLM embeddings) besides the other signals."""
    features: list[Name] | None = None
    """Only these signals are tested (default: all)."""
    embedding_sample: Annotated[int, Field(ge=20)] = 500
    """Prompts per window embedded for the topic test (the other tests read every row)."""
    max_rows: Annotated[int, Field(ge=100)] = 20_000
    """Requests read per window: a window with more is read as a random sample of this
    many (the check's memory grows with it: about 20 KiB a request)."""
    retrain: FineTuneTemplate | None = None
    """What to fine-tune on drift; without it drift is only reported."""
    canary: CanarySettings = CanarySettings()
    feedback: FeedbackSettings | None = None
    """Retrain on users' feedback (DPO) as well; without it feedback is only kept."""

    @property
    def gateway_model(self) -> str:
        return self.model or self.name

    @property
    def registry_name(self) -> str:
        return self.registered_model or self.name


class MonitorSettings(_Strict):
    """The monitor's settings. The top-level window and threshold fields apply to a
    deployment that ``deployments`` does not list (``llmops drift check --deployment D``
    in a DriftMonitor's CronJob sets them through ``LLMOPS_DRIFT__*`` variables)."""

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
    reference_window: Seconds = 7 * 86400
    current_window: Seconds = 3600
    min_samples: Annotated[int, Field(ge=2)] = 200
    feature_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.01
    share_threshold: Annotated[float, Field(gt=0, le=1)] = 0.2
    features: list[Name] | None = None
    """Only these signals are tested (default: all)."""
    canary: CanarySettings = CanarySettings()
    """How an unlisted deployment's canary is judged (``llmops drift canary``)."""
    feedback: FeedbackSettings | None = None
    """How an unlisted deployment's shadow is judged (``llmops drift shadow``)."""

    @model_validator(mode="after")
    def _unique(self) -> MonitorSettings:
        names = [d.name for d in self.deployments]
        if len(set(names)) != len(names):
            raise ValueError("deployment names must be unique")
        return self

    def deployment(self, name: str) -> DeploymentSettings:
        """The listed deployment, or one built from the top-level windows and thresholds."""
        listed = next((d for d in self.deployments if d.name == name), None)
        if listed is not None:
            return listed
        return DeploymentSettings(
            name=name,
            features=self.features,
            canary=self.canary,
            feedback=self.feedback,
            reference_window=self.reference_window,
            current_window=self.current_window,
            policy=PolicySettings(
                min_samples=self.min_samples,
                thresholds=ThresholdSettings(
                    feature_score=self.feature_threshold, drift_share=self.share_threshold
                ),
            ),
        )


ENV_PREFIX = "LLMOPS_DRIFT__"
"""The monitor's variables: ``LLMOPS_DRIFT__INTERVAL_SECONDS=60`` (its own prefix, as
the gateway's ``LLMOPS_`` variables may share its environment)."""


def load(
    path: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> MonitorSettings:
    """Settings from a YAML file, ``LLMOPS_DRIFT__`` variables and command-line overrides."""
    return core_settings.load(
        MonitorSettings,
        path,
        environ=environ,
        overrides=overrides,
        env_prefix=ENV_PREFIX,
        label="drift monitor settings",
    )
