"""The real kopf operator against kmock's Kubernetes emulator with our CRDs."""

from __future__ import annotations

import itertools
from typing import Any

import orjson

from operators.errors import ResolveError
from tests.support import kube

POOLS = [
    {
        "name": "a100",
        "gpuType": "nvidia-tesla-a100",
        "nodeSelector": {"pool": "a100"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "gpusPerNode": 8,
        "priority": 10,
    },
    {"name": "l4", "gpuType": "nvidia-l4", "nodeSelector": {"pool": "l4"}, "gpusPerNode": 4},
]
_uids = itertools.count()


class Aliases:
    """Registry aliases the test moves (the resolver seam; the MLflow one speaks HTTP)."""

    def __init__(self, **aliases: str) -> None:
        self.aliases = aliases

    async def resolve(self, model: str, alias: str) -> str:
        try:
            return self.aliases[f"{model}@{alias}"]
        except KeyError:
            raise ResolveError(f"model {model!r} has no alias {alias!r}") from None


async def create(cluster: Any, path: str, body: dict[str, Any]) -> None:
    body.setdefault("metadata", {}).setdefault("uid", f"uid-{next(_uids)}")
    response = await cluster.post(path, data=orjson.dumps(body), headers={"content-type": "application/json"})
    assert response.status < 300, await response.text()


async def patch(cluster: Any, path: str, body: dict[str, Any]) -> None:
    response = await cluster.patch(path, data=orjson.dumps(body), headers={"content-type": "application/merge-patch+json"})
    assert response.status < 300, await response.text()


def obj(cluster: Any, resource: str, namespace: str | None, name: str) -> dict[str, Any]:
    return dict(cluster.objects[resource, namespace, name].raw)


FTJ = "/apis/llmops.io/v1alpha1/namespaces/ml/finetunejobs"


def finetunejob(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "llmops.io/v1alpha1",
        "kind": "FineTuneJob",
        "metadata": {"name": name, "namespace": "ml"},
        "spec": {"datasets": ["/data/train.jsonl"], "outputModel": "bot", "gpus": 2, **spec},
    }


async def add_nodes(cluster: Any) -> None:
    await create(cluster, "/api/v1/nodes", kube.node("a100-1", {"pool": "a100"}, 8))
    await create(cluster, "/api/v1/nodes", kube.node("l4-1", {"pool": "l4"}, 4))


async def test_finetunejob_becomes_a_job_on_the_matching_pool_and_follows_it(cluster: Any) -> None:
    await add_nodes(cluster)
    config = kube.config_for(str(cluster.url), nodePools=POOLS)
    async with kube.operator_in_thread(config, Aliases()):
        await create(cluster, FTJ, finetunejob("tune", gpuType="nvidia-l4", hyperparameters={"maxSteps": 5}))
        job = await kube.eventually(lambda: obj(cluster, "batch/v1/jobs", "ml", "tune-ft1"))
        pod = job["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"pool": "l4"}
        assert pod["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": "2"}
        assert "llmops finetune run --base bundled:smollm2 --data /data/train.jsonl --max-steps 5" in pod["containers"][0]["command"][2]
        assert job["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "llmops-operator"
        assert job["metadata"]["ownerReferences"][0]["name"] == "tune"
        status = await kube.eventually(lambda: obj(cluster, "llmops.io/v1alpha1/finetunejobs", "ml", "tune")["status"])
        assert status["phase"] == "Running" and status["nodePool"] == "l4"

        # The Job's pod finished and left the fine-tune's JSON; the Job completes.
        result = {"run_id": "r-123", "model": "bot", "version": "7"}
        await create(cluster, "/api/v1/namespaces/ml/pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "tune-ft1-abc", "namespace": "ml", "labels": {"job-name": "tune-ft1"}},
            "spec": {"containers": [{"name": "finetune", "image": "x"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [{"name": "finetune", "state": {"terminated": {"exitCode": 0, "message": orjson.dumps(result).decode()}}}]},
        })  # fmt: skip
        await patch(cluster, "/apis/batch/v1/namespaces/ml/jobs/tune-ft1/status", {"status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}})
        done = await kube.eventually(lambda: (s := obj(cluster, "llmops.io/v1alpha1/finetunejobs", "ml", "tune")["status"])["phase"] == "Succeeded" and s)
        assert done["runId"] == "r-123" and done["registeredVersion"] == "7"
        ready = {c["type"]: c for c in done["conditions"]}["Ready"]
        assert ready["status"] == "True" and ready["reason"] == "Registered"
