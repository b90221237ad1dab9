"""A FineTuneJob as a ``batch/v1`` Job (one node) or a KubeRay ``RayJob`` (several nodes).

Both run the same command, ``llmops finetune run ... --json``; the JSON result is
written to the container's termination message, where the operator reads the MLflow
run id and the registered version when the Job completes. With a promotion policy
the container then runs ``llmops models promote`` with the policy's gates.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from operators import labels
from operators.config import NodePool, OperatorConfig

RESULT_FILE = "/dev/termination-log"
FEEDBACK_PAIRS = "/tmp/llmops-feedback-pairs.jsonl"  # noqa: S108 (the pod's own scratch)
DATABASE_ENV = "LLMOPS_DRIFT__DATABASE_URL"
"""The gateway's database, for preference pairs built from feedback (the operator's
``driftCheck.env`` sets it, as for drift checks)."""
GPU = "nvidia.com/gpu"
KIND = "FineTuneJob"

_HYPERPARAMETERS = {
    "maxSteps": "--max-steps",
    "epochs": "--epochs",
    "learningRate": "--learning-rate",
    "batchSize": "--batch-size",
    "maxSeqLen": "--max-seq-len",
    "loraR": "--lora-r",
    "seed": "--seed",
    "beta": "--beta",
}


@dataclass(frozen=True, slots=True)
class Attempt:
    """Which run of a FineTuneJob this is, and where it was placed."""

    number: int
    pool: NodePool
    queue: str | None
    """Kueue LocalQueue, when Kueue admits it (the object is created suspended)."""


def finetune_command(spec: Mapping[str, Any], tracking_uri: str) -> list[str]:
    """``llmops finetune run`` for ``spec`` (contract: the fine-tuning CLI)."""
    args = ["llmops", "finetune", "run", "--base", str(spec.get("base", "bundled:smollm2"))]
    if spec.get("feedbackPairs"):
        args += ["--data", FEEDBACK_PAIRS]
    for path in spec["datasets"]:
        args += ["--data", str(path)]
    if spec.get("eval"):
        args += ["--eval", str(spec["eval"])]
    hyper = spec.get("hyperparameters") or {}
    for key, flag in _HYPERPARAMETERS.items():
        if hyper.get(key) is not None:
            args += [flag, str(hyper[key])]
    args += ["--recipe", str(spec.get("recipe", "lora-sft"))]
    args += ["--register", str(spec["outputModel"]), "--output", "/tmp/llmops-run"]  # noqa: S108 (the pod's own scratch)
    return [*args, "--resume", "--tracking-uri", tracking_uri, "--json"]


def script(spec: Mapping[str, Any], tracking_uri: str) -> str:
    """The container's shell script: fine-tune, keep the result, promote if asked."""
    run = shlex.join(finetune_command(spec, tracking_uri))
    lines = ["set -eu"]
    pairs = spec.get("feedbackPairs")
    if pairs:
        build = [
            "llmops", "feedback", "pairs", "--model", str(pairs["model"]),
            "--min-pairs", str(pairs.get("minPairs", 8)), "--out", FEEDBACK_PAIRS,
        ]  # fmt: skip
        if pairs.get("since"):
            build += ["--since", str(pairs["since"])]
        lines.append(f'{shlex.join(build)} --database-url "${DATABASE_ENV}" --json >&2')
    lines += [f"{run} > /tmp/result.json", f"cp /tmp/result.json {RESULT_FILE}"]
    promotion = spec.get("promotion") or {}
    if promotion.get("to", "none") != "none":
        lines.append(
            'version="$(python -c \'import json; print(json.load(open("/tmp/result.json"))["version"])\')"'
        )
        model = str(spec["outputModel"])
        promote = [
            "llmops", "models", "promote", model,
            "--to", str(promotion["to"]), "--tracking-uri", tracking_uri,
        ]  # fmt: skip
        for gate in promotion.get("gates") or []:
            promote += ["--gate", str(gate)]
        promoting = f'{shlex.join(promote)} --version "$version" --json >&2 || test $? -eq 3'
        suite = promotion.get("suite")
        if suite:
            evaluate = [
                "llmops", "eval", "run", "--against", f"models:/{model}@champion",
                "--suite", str(suite), "--tracking-uri", tracking_uri,
            ]  # fmt: skip
            # A refusing suite (exit 3) ends the job well, without a promotion.
            model_ref = f'"models:/{model}/$version"'
            promoting = (
                f"if {shlex.join(evaluate)} --model {model_ref} --json >&2; "
                f"then {promoting}; else test $? -eq 3; fi"
            )
        lines.append(promoting)
    return "\n".join(lines)


def _container(spec: Mapping[str, Any], config: OperatorConfig) -> dict[str, Any]:
    gpus = int(spec.get("gpus", 1))
    resources: dict[str, Any] = {"requests": {"cpu": "2", "memory": "8Gi"}}
    if gpus:
        resources["limits"] = {GPU: str(gpus)}
        resources["requests"][GPU] = str(gpus)
    return {
        "name": "finetune",
        "image": config.images.trainer,
        "command": ["sh", "-c", script(spec, config.mlflow.tracking_uri)],
        "env": [
            {"name": "LLMOPS_MLFLOW__TRACKING_URI", "value": config.mlflow.tracking_uri},
            *(config.drift_check.env if spec.get("feedbackPairs") else []),
        ],
        "resources": resources,
        "terminationMessagePath": RESULT_FILE,
        "terminationMessagePolicy": "File",
    }


def _pod_template(
    spec: Mapping[str, Any], config: OperatorConfig, attempt: Attempt, meta_labels: dict[str, str]
) -> dict[str, Any]:
    return {
        "metadata": {"labels": meta_labels},
        "spec": {
            "restartPolicy": "Never",
            "nodeSelector": dict(attempt.pool.node_selector),
            "tolerations": [t.manifest() for t in attempt.pool.tolerations],
            "containers": [_container(spec, config)],
        },
    }


def job_name(owner: str, attempt: int) -> str:
    return labels.child_name(owner, f"ft{attempt}")


def _metadata(body: Mapping[str, Any], attempt: Attempt) -> dict[str, Any]:
    meta = body["metadata"]
    extra = {labels.NODE_POOL: attempt.pool.name, labels.ATTEMPT: str(attempt.number)}
    if attempt.queue is not None:
        extra[labels.QUEUE_NAME] = attempt.queue
    return {
        "name": job_name(meta["name"], attempt.number),
        "namespace": meta["namespace"],
        "labels": labels.ours(KIND, meta["name"], "finetune", **extra),
        "ownerReferences": [labels.owner_reference(body)],
    }


def render_job(body: Mapping[str, Any], config: OperatorConfig, attempt: Attempt) -> dict[str, Any]:
    """A ``batch/v1`` Job running the fine-tune on one node of the chosen pool."""
    spec = body["spec"]
    metadata = _metadata(body, attempt)
    pod_labels = labels.ours(KIND, body["metadata"]["name"], "finetune")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            # Retries are the operator's (a new attempt after a backoff), so the Job tries once.
            "backoffLimit": 0,
            "suspend": attempt.queue is not None,
            "ttlSecondsAfterFinished": 7 * 24 * 3600,
            "template": _pod_template(spec, config, attempt, pod_labels),
        },
    }


def _ray_group(
    spec: Mapping[str, Any], config: OperatorConfig, attempt: Attempt, pod_labels: dict[str, str]
) -> dict[str, Any]:
    template = _pod_template(spec, config, attempt, pod_labels)
    container = template["spec"]["containers"][0]
    container.pop("command")
    container.pop("terminationMessagePath")
    container.pop("terminationMessagePolicy")
    container["name"] = "ray-worker"
    template["spec"].pop("restartPolicy")
    return template


def render_rayjob(
    body: Mapping[str, Any], config: OperatorConfig, attempt: Attempt
) -> dict[str, Any]:
    """A KubeRay ``RayJob`` running the fine-tune over ``spec.nodes`` GPU workers."""
    spec = body["spec"]
    nodes = int(spec.get("nodes", 1))
    pod_labels = labels.ours(KIND, body["metadata"]["name"], "finetune")
    head = {
        "metadata": {"labels": pod_labels},
        "spec": {
            "containers": [
                {
                    "name": "ray-head",
                    "image": config.images.trainer,
                    "resources": {"requests": {"cpu": "2", "memory": "8Gi"}},
                    "env": [
                        {"name": "LLMOPS_MLFLOW__TRACKING_URI", "value": config.mlflow.tracking_uri}
                    ],
                }
            ]
        },
    }
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": _metadata(body, attempt),
        "spec": {
            "entrypoint": script(spec, config.mlflow.tracking_uri),
            "shutdownAfterJobFinishes": True,
            "ttlSecondsAfterFinished": 7 * 24 * 3600,
            "suspend": attempt.queue is not None,
            "backoffLimit": 0,
            "rayClusterSpec": {
                "rayVersion": config.images.ray.rpartition(":")[2] or "2.60.0",
                "headGroupSpec": {"rayStartParams": {}, "template": head},
                "workerGroupSpecs": [
                    {
                        "groupName": "gpu",
                        "replicas": nodes,
                        "minReplicas": nodes,
                        "maxReplicas": nodes,
                        "rayStartParams": {},
                        "template": _ray_group(spec, config, attempt, pod_labels),
                    }
                ],
            },
        },
    }


def kind_of(spec: Mapping[str, Any]) -> str:
    """``RayJob`` when the spec asks for several nodes, else ``Job``."""
    return "RayJob" if int(spec.get("nodes", 1)) > 1 else "Job"


def render(body: Mapping[str, Any], config: OperatorConfig, attempt: Attempt) -> dict[str, Any]:
    """The Job or RayJob for ``body``'s attempt (:func:`kind_of`)."""
    if kind_of(body["spec"]) == "RayJob":
        return render_rayjob(body, config, attempt)
    return render_job(body, config, attempt)
