"""A DriftMonitor as a ``batch/v1`` CronJob running ``llmops drift canary`` (the
ModelDeployment's challenger judged against its champion, by moving registry aliases)
and ``llmops drift check``.

The check's JSON result goes to the container's termination message; the operator
reads it when the check's Job finishes and records it on the DriftMonitor's status
(the check needs no API access, so its pod runs without a service account token).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from operators import driftpolicy, labels
from operators.config import OperatorConfig

KIND = "DriftMonitor"
RESULT_FILE = "/dev/termination-log"


def cronjob_name(owner: str) -> str:
    return labels.child_name(owner, "drift", limit=52)  # CronJob names leave room for Job suffixes


def judges_canary(spec: Mapping[str, Any]) -> bool:
    return bool((spec.get("canary") or {}).get("judge", True))


def judges_shadow(spec: Mapping[str, Any]) -> bool:
    feedback = spec.get("feedback") or {}
    return bool(feedback) and bool((feedback.get("shadow") or {}).get("judge", True))


def check_command(spec: Mapping[str, Any], status: Mapping[str, Any] | None = None) -> str:
    """The shadow's and the canary's judgements (logged; a failure of either does not stop
    the check), then the check, its JSON kept as the termination message. The check's
    verdicts (3 data drift, 4 too few requests) are results, not failures: the pod succeeds
    and is not retried; any other failure keeps its status. With ``feedback``, the check
    also counts the feedback given since the last feedback retrain (from ``status``)."""
    deployment = shlex.quote(spec["deployment"])
    options = ""
    if spec.get("feedback"):
        since = (status or {}).get("feedbackSince") or "all"
        options = f" --feedback-since {shlex.quote(str(since))}"
    check = (
        f"llmops drift check --deployment {deployment}{options} --json > /tmp/drift.json; "
        f"status=$?; cp /tmp/drift.json {RESULT_FILE}; "
        "case $status in 3|4) exit 0;; esac; exit $status"
    )
    # A registry that is down costs the check a few seconds, not MLflow's minutes of retries.
    quick = "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1 MLFLOW_HTTP_REQUEST_TIMEOUT=20"
    judges = []
    if judges_shadow(spec):
        feedback = spec["feedback"]
        model = shlex.quote(feedback["fineTuneTemplate"]["spec"]["outputModel"])
        alias = shlex.quote(str((feedback.get("shadow") or {}).get("alias", "shadow")))
        judges.append(
            f"{quick} llmops drift shadow --deployment {deployment} --model {model} "
            f"--alias {alias} --json >&2"
        )
    if judges_canary(spec):
        model = shlex.quote(spec["fineTuneTemplate"]["spec"]["outputModel"])
        judges.append(
            f"{quick} llmops drift canary --deployment {deployment} --model {model} --json >&2"
        )
    return "; ".join([*judges, check])


def _canary_env(spec: Mapping[str, Any]) -> dict[str, str]:
    """The canary's rules for ``llmops drift canary``."""
    if not judges_canary(spec):
        return {}
    rules = spec.get("canary") or {}
    prefix = "LLMOPS_DRIFT__CANARY__"
    return {
        f"{prefix}SOAK_SECONDS": str(driftpolicy.seconds(str(rules.get("soak", "30m")))),
        f"{prefix}MIN_REQUESTS": str(rules.get("minRequests", 20)),
        f"{prefix}ERROR_RATE_MARGIN": str(rules.get("errorRateMargin", 0.02)),
        f"{prefix}LATENCY_RATIO": str(rules.get("latencyRatio", 1.5)),
    }


def _shadow_env(spec: Mapping[str, Any]) -> dict[str, str]:
    """The shadow's rules for ``llmops drift shadow``."""
    if not judges_shadow(spec):
        return {}
    rules = spec["feedback"].get("shadow") or {}
    prefix = "LLMOPS_DRIFT__FEEDBACK__"
    return {
        f"{prefix}SHADOW_SECONDS": str(driftpolicy.seconds(str(rules.get("soak", "30m")))),
        f"{prefix}MIN_SHADOW_REQUESTS": str(rules.get("minRequests", 20)),
        f"{prefix}MIN_AGREEMENT": str(rules.get("minAgreement", 0)),
        f"{prefix}MAX_LATENCY_RATIO": str(rules.get("maxLatencyRatio", 2)),
        f"{prefix}ERROR_RATE_MARGIN": str(rules.get("errorRateMargin", 0.02)),
    }


def _env(spec: Mapping[str, Any], config: OperatorConfig) -> list[dict[str, Any]]:
    windows = spec.get("windows") or {}
    thresholds = spec.get("thresholds") or {}
    values = {
        "LLMOPS_MLFLOW__TRACKING_URI": config.mlflow.tracking_uri,
        "LLMOPS_DRIFT__REFERENCE_WINDOW": str(windows.get("reference", "7d")),
        "LLMOPS_DRIFT__CURRENT_WINDOW": str(windows.get("current", "1h")),
        "LLMOPS_DRIFT__MIN_SAMPLES": str(spec.get("minSamples", 200)),
        "LLMOPS_DRIFT__FEATURE_THRESHOLD": str(thresholds.get("featureScore", 0.01)),
        "LLMOPS_DRIFT__SHARE_THRESHOLD": str(thresholds.get("driftShare", 0.2)),
    }
    values.update(_canary_env(spec))
    values.update(_shadow_env(spec))
    if spec.get("features"):
        values["LLMOPS_DRIFT__FEATURES"] = "[" + ", ".join(spec["features"]) + "]"
    own = [{"name": k, "value": v} for k, v in values.items()]
    return [*config.drift_check.env, *own]


def render(body: Mapping[str, Any], config: OperatorConfig) -> dict[str, Any]:
    meta = body["metadata"]
    spec = body["spec"]
    pod_labels = labels.ours(KIND, meta["name"], "drift-check")
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": cronjob_name(meta["name"]),
            "namespace": meta["namespace"],
            "labels": labels.ours(KIND, meta["name"], "drift-check"),
            "ownerReferences": [labels.owner_reference(body)],
        },
        "spec": {
            "schedule": spec.get("schedule", "*/15 * * * *"),
            "suspend": bool(spec.get("suspend", False)),
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "backoffLimit": 1,
                    "ttlSecondsAfterFinished": 24 * 3600,
                    "template": {
                        "metadata": {"labels": pod_labels},
                        "spec": {
                            "restartPolicy": "Never",
                            "automountServiceAccountToken": False,
                            "containers": [
                                {
                                    "name": "drift-check",
                                    "image": config.images.trainer,
                                    "command": [
                                        "sh",
                                        "-c",
                                        check_command(spec, body.get("status")),
                                    ],
                                    "env": _env(spec, config),
                                    "resources": {
                                        "requests": {"cpu": "500m", "memory": "1Gi"},
                                        "limits": {"memory": "2Gi"},
                                    },
                                    "terminationMessagePath": RESULT_FILE,
                                    "terminationMessagePolicy": "File",
                                }
                            ],
                        },
                    },
                },
            },
        },
    }


def _fine_tune_job(
    monitor: Mapping[str, Any],
    template: Mapping[str, Any],
    spec: dict[str, Any],
    *,
    suffix: str,
    component: str,
    extra_labels: Mapping[str, str],
) -> dict[str, Any]:
    """A FineTuneJob the monitor owns (not as controller: it outlives a check), from one of
    its templates."""
    meta = monitor["metadata"]
    template_meta = template.get("metadata") or {}
    return {
        "apiVersion": labels.API_VERSION,
        "kind": "FineTuneJob",
        "metadata": {
            "name": labels.child_name(meta["name"], suffix),
            "namespace": meta["namespace"],
            "labels": {
                **(template_meta.get("labels") or {}),
                **labels.ours(KIND, meta["name"], component),
                **extra_labels,
            },
            "annotations": dict(template_meta.get("annotations") or {}),
            "ownerReferences": [{**labels.owner_reference(monitor), "controller": False}],
        },
        "spec": spec,
    }


def finetune_job(
    monitor: Mapping[str, Any], episode: str, extra_datasets: list[str]
) -> dict[str, Any]:
    """The FineTuneJob a drift episode starts, from the monitor's template; its name is
    derived from the episode so the same episode never starts two."""
    template = monitor["spec"]["fineTuneTemplate"]
    spec = dict(template["spec"])
    spec["datasets"] = [*extra_datasets, *spec["datasets"]]
    return _fine_tune_job(
        monitor,
        template,
        spec,
        suffix=f"retrain-{episode}",
        component="retrain",
        extra_labels={labels.EPISODE: episode},
    )


def feedback_job(monitor: Mapping[str, Any], check_job: str, since: str | None) -> dict[str, Any]:
    """The FineTuneJob users' feedback starts: the monitor's feedback template, trained on
    the pairs built from the feedback given since ``since`` (recipe dpo, no retries unless
    set: too few pairs would fail again). Named after the check that started it, so a
    repeated event cannot start two."""
    feedback = monitor["spec"]["feedback"]
    template = feedback["fineTuneTemplate"]
    pairs: dict[str, Any] = {
        "model": monitor["spec"]["deployment"],
        "minPairs": int(feedback.get("minPairs", 8)),
    }
    if since:
        pairs["since"] = since
    spec = {
        "recipe": "dpo",
        "datasets": [],
        "retries": {"limit": 0},
        **template["spec"],
        "feedbackPairs": pairs,
    }
    return _fine_tune_job(
        monitor,
        template,
        spec,
        suffix=f"feedback-{check_job}",
        component="feedback-retrain",
        extra_labels={},
    )
