"""The real kopf operator against kmock's Kubernetes emulator with our CRDs."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import orjson

from operators.errors import ResolveError
from operators.render import finetune as finetune_render
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
    # The emulator assigns neither: owner references need the uid, kopf's patches the version.
    body.setdefault("metadata", {}).setdefault("uid", f"uid-{next(_uids)}")
    body["metadata"].setdefault("resourceVersion", "1")
    response = await cluster.post(
        path, data=orjson.dumps(body), headers={"content-type": "application/json"}
    )
    assert response.status < 300, await response.text()


async def patch(cluster: Any, path: str, body: dict[str, Any]) -> None:
    response = await cluster.patch(
        path, data=orjson.dumps(body), headers={"content-type": "application/merge-patch+json"}
    )
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
    async with kube.operator_in_thread(config, Aliases()) as memo:
        await create(
            cluster, FTJ, finetunejob("tune", gpuType="nvidia-l4", hyperparameters={"maxSteps": 5})
        )
        job = await kube.eventually(lambda: obj(cluster, "batch/v1/jobs", "ml", "tune-ft1"))
        pod = job["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"pool": "l4"}
        assert pod["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": "2"}
        assert (
            "llmops finetune run --base bundled:smollm2 --data /data/train.jsonl --max-steps 5"
            in pod["containers"][0]["command"][2]
        )
        assert job["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "llmops-operator"
        assert job["metadata"]["ownerReferences"][0]["name"] == "tune"
        status = await kube.eventually(
            lambda: obj(cluster, "llmops.io/v1alpha1/finetunejobs", "ml", "tune")["status"]
        )
        assert status["phase"] == "Running" and status["nodePool"] == "l4"

        # The Job's pod finished and left the fine-tune's JSON; the Job completes.
        result = {"run_id": "r-123", "model": "bot", "version": "7"}
        await create(cluster, "/api/v1/namespaces/ml/pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "tune-ft1-abc", "namespace": "ml", "labels": {"job-name": "tune-ft1"}},
            "spec": {"containers": [{"name": "finetune", "image": "x"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [{"name": "finetune", "state": {"terminated": {"exitCode": 0, "message": orjson.dumps(result).decode()}}}]},
        })  # fmt: skip
        await patch(
            cluster,
            "/apis/batch/v1/namespaces/ml/jobs/tune-ft1/status",
            {"status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}},
        )
        done = await kube.eventually(
            lambda: (
                (s := obj(cluster, "llmops.io/v1alpha1/finetunejobs", "ml", "tune")["status"])[
                    "phase"
                ]
                == "Succeeded"
                and s
            )
        )
        assert done["runId"] == "r-123" and done["registeredVersion"] == "7"
        ready = {c["type"]: c for c in done["conditions"]}["Ready"]
        assert ready["status"] == "True" and ready["reason"] == "Registered"
        jobs_by_phase = memo.ctx.metrics.registry.get_sample_value
        await kube.eventually(
            lambda: jobs_by_phase("llmops_finetune_jobs", {"phase": "Succeeded"}) == 1.0
        )
        assert jobs_by_phase("llmops_finetune_jobs", {"phase": "Running"}) == 0.0


def finetune_status(cluster: Any, name: str) -> dict[str, Any]:
    return dict(obj(cluster, "llmops.io/v1alpha1/finetunejobs", "ml", name).get("status") or {})


def live(cluster: Any, group_version_plural: str) -> list[str]:
    return sorted(
        name
        for (resource, _, name), o in cluster.objects.items()
        if f"{resource.group}/{resource.version}/{resource.plural}".lstrip("/")
        == group_version_plural
        and not o.deleted
    )


async def add_hog(cluster: Any) -> None:
    """A pod of another team holding 3 of the L4 node's 4 GPUs."""
    await create(cluster, "/api/v1/namespaces/other/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hog", "namespace": "other"},
        "spec": {"nodeName": "l4-1", "containers": [{"name": "c", "image": "x", "resources": {"requests": {"nvidia.com/gpu": "3"}}}]},
        "status": {"phase": "Running"},
    })  # fmt: skip


async def free_hog(cluster: Any) -> None:
    await patch(cluster, "/api/v1/namespaces/other/pods/hog", {"status": {"phase": "Succeeded"}})


async def test_nothing_fits_waits_pending_with_a_reason_then_places_when_capacity_frees(
    cluster: Any,
) -> None:
    await add_nodes(cluster)
    await add_hog(cluster)
    config = kube.config_for(str(cluster.url), nodePools=POOLS)
    async with kube.operator_in_thread(config, Aliases()):
        await create(cluster, FTJ, finetunejob("big", gpuType="nvidia-l4"))
        await create(cluster, FTJ, finetunejob("odd", gpuType="tpu-v5"))
        big = await kube.eventually(
            lambda: (
                finetune_status(cluster, "big").get("phase") == "Pending"
                and finetune_status(cluster, "big")
            )
        )
        assert big["reason"] == "InsufficientCapacity"
        assert "most free: 1 GPU(s) in l4" in big["message"]
        odd = await kube.eventually(
            lambda: (
                finetune_status(cluster, "odd").get("reason") == "NoMatchingPool"
                and finetune_status(cluster, "odd")
            )
        )
        assert odd["phase"] == "Pending" and "tpu-v5" in odd["message"]
        assert live(cluster, "batch/v1/jobs") == []
        # The hog finishes: the next look places the job.
        await free_hog(cluster)
        await kube.eventually(lambda: finetune_status(cluster, "big").get("phase") == "Running")
        assert live(cluster, "batch/v1/jobs") == ["big-ft1"]


async def test_a_restarted_operator_converges_without_duplicates(cluster: Any) -> None:
    await add_nodes(cluster)
    config = kube.config_for(str(cluster.url), nodePools=POOLS)
    async with kube.operator_in_thread(config, Aliases()):
        for i in range(3):
            await create(cluster, FTJ, finetunejob(f"job{i}", gpuType="nvidia-tesla-a100"))
        await kube.eventually(
            lambda: all(
                finetune_status(cluster, f"job{i}").get("phase") == "Running" for i in range(3)
            )
        )
    before = live(cluster, "batch/v1/jobs")
    statuses = [finetune_status(cluster, f"job{i}") for i in range(3)]
    async with kube.operator_in_thread(config, Aliases()):
        # A job created while the operator was down, and the old ones resumed.
        await create(cluster, FTJ, finetunejob("late", gpuType="nvidia-tesla-a100"))
        await kube.eventually(lambda: finetune_status(cluster, "late").get("phase") == "Running")
    assert live(cluster, "batch/v1/jobs") == sorted([*before, "late-ft1"])
    assert [finetune_status(cluster, f"job{i}")["jobName"] for i in range(3)] == [
        s["jobName"] for s in statuses
    ]
    # 3 x 2 GPUs of 8 were held, so the fourth still fit on the A100 pool.
    assert finetune_status(cluster, "late")["nodePool"] == "a100"


async def test_a_job_whose_status_write_was_lost_is_adopted_not_placed_again(
    cluster: Any,
) -> None:
    await add_nodes(cluster)
    config = kube.config_for(str(cluster.url), nodePools=POOLS)
    # The operator created the Job, then stopped before writing the status: the Job
    # holds the whole A100 node, and the FineTuneJob says nothing of it.
    body = finetunejob("full", gpus=8, gpuType="nvidia-tesla-a100")
    await create(cluster, FTJ, body)
    pool = config.pool("a100")
    assert pool is not None
    job = finetune_render.render(body, config, finetune_render.Attempt(1, pool, None))
    await create(cluster, "/apis/batch/v1/namespaces/ml/jobs", job)
    async with kube.operator_in_thread(config, Aliases()):
        status = await kube.eventually(
            lambda: (
                finetune_status(cluster, "full").get("phase") == "Running"
                and finetune_status(cluster, "full")
            )
        )
    assert status["jobName"] == "full-ft1" and status["attempt"] == 1
    assert status["nodePool"] == "a100"
    assert live(cluster, "batch/v1/jobs") == ["full-ft1"]


async def fail_job(cluster: Any, name: str) -> None:
    """The Job's pod failed, as the job controller reports it."""
    await patch(
        cluster,
        f"/apis/batch/v1/namespaces/ml/jobs/{name}/status",
        {"status": {"failed": 1, "conditions": [{"type": "Failed", "status": "True"}]}},
    )


async def test_a_failed_job_is_retried_after_a_backoff_then_fails_for_good(cluster: Any) -> None:
    await add_nodes(cluster)
    config = kube.config_for(str(cluster.url), nodePools=POOLS)
    async with kube.operator_in_thread(config, Aliases()):
        await create(
            cluster,
            FTJ,
            finetunejob("flaky", gpuType="nvidia-l4", retries={"limit": 1, "backoffSeconds": 1}),
        )
        await kube.eventually(lambda: "flaky-ft1" in live(cluster, "batch/v1/jobs"))
        await add_hog(cluster)  # when the retry is due, attempt 2 does not fit
        await fail_job(cluster, "flaky-ft1")
        retrying = await kube.eventually(
            lambda: (
                finetune_status(cluster, "flaky").get("phase") == "Retrying"
                and finetune_status(cluster, "flaky")
            )
        )
        assert "attempt 2 in 1s" in retrying["message"]
        waiting = await kube.eventually(
            lambda: (
                finetune_status(cluster, "flaky").get("phase") == "Pending"
                and finetune_status(cluster, "flaky")
            )
        )
        assert waiting["attempt"] == 1 and "jobName" not in waiting
        # Several rechecks later the failed attempt has not been run again.
        await asyncio.sleep(2)
        assert live(cluster, "batch/v1/jobs") == []
        assert finetune_status(cluster, "flaky")["phase"] == "Pending"
        await free_hog(cluster)
        await kube.eventually(lambda: live(cluster, "batch/v1/jobs") == ["flaky-ft2"], timeout=10)
        await kube.eventually(lambda: finetune_status(cluster, "flaky")["attempt"] == 2)
        await patch(
            cluster, "/apis/batch/v1/namespaces/ml/jobs/flaky-ft2/status", {"status": {"failed": 1}}
        )
        failed = await kube.eventually(
            lambda: (
                finetune_status(cluster, "flaky").get("phase") == "Failed"
                and finetune_status(cluster, "flaky")
            )
        )
        assert failed["reason"] == "BackoffLimitExceeded"
        conditions = {c["type"]: c for c in failed["conditions"]}
        assert (
            conditions["Degraded"]["status"] == "True" and conditions["Ready"]["status"] == "False"
        )


async def test_a_retry_whose_failed_job_is_gone_runs_the_next_attempt_at_its_time(
    cluster: Any,
) -> None:
    await add_nodes(cluster)
    config = kube.config_for(str(cluster.url), nodePools=POOLS)
    async with kube.operator_in_thread(config, Aliases()):
        await create(
            cluster,
            FTJ,
            finetunejob("gone", gpuType="nvidia-l4", retries={"limit": 2, "backoffSeconds": 1}),
        )
        await kube.eventually(lambda: "gone-ft1" in live(cluster, "batch/v1/jobs"))
        await fail_job(cluster, "gone-ft1")
        await kube.eventually(lambda: finetune_status(cluster, "gone").get("phase") == "Retrying")
        # The failed Job goes before the retry is due (its TTL, or a retry whose status
        # write was lost): attempt 2 follows, attempt 1 is not run again.
        response = await cluster.delete("/apis/batch/v1/namespaces/ml/jobs/gone-ft1")
        assert response.status < 300
        await kube.eventually(lambda: live(cluster, "batch/v1/jobs") == ["gone-ft2"], timeout=10)
        status = await kube.eventually(
            lambda: (s := finetune_status(cluster, "gone")).get("jobName") == "gone-ft2" and s
        )
        assert status["attempt"] == 2 and status["phase"] == "Running"


async def test_kueue_gets_a_suspended_labelled_job_and_several_nodes_get_a_rayjob(
    cluster: Any,
) -> None:
    await add_nodes(cluster)
    config = kube.config_for(
        str(cluster.url), nodePools=POOLS, kueue={"enabled": True, "defaultQueue": "team-a"}
    )
    async with kube.operator_in_thread(config, Aliases()):
        await create(cluster, FTJ, finetunejob("queued", gpuType="nvidia-tesla-a100", gpus=8))
        await create(
            cluster,
            FTJ,
            finetunejob("wide", gpuType="nvidia-tesla-a100", gpus=8, nodes=3, queue="big"),
        )
        job = await kube.eventually(lambda: obj(cluster, "batch/v1/jobs", "ml", "queued-ft1"))
        assert job["spec"]["suspend"] is True
        assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
        ray = await kube.eventually(lambda: obj(cluster, "ray.io/v1/rayjobs", "ml", "wide-ft1"))
        assert (
            ray["spec"]["suspend"] is True
            and ray["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "big"
        )
        workers = ray["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]
        assert workers["replicas"] == 3 and workers["template"]["spec"]["nodeSelector"] == {
            "pool": "a100"
        }
        status = await kube.eventually(
            lambda: (
                finetune_status(cluster, "queued").get("phase") == "Queued"
                and finetune_status(cluster, "queued")
            )
        )
        assert status["reason"] == "WaitingForKueue"
        # Kueue admits: it unsuspends the Job.
        await patch(
            cluster,
            "/apis/batch/v1/namespaces/ml/jobs/queued-ft1",
            {"spec": {"suspend": False}, "status": {"active": 1}},
        )
        await kube.eventually(lambda: finetune_status(cluster, "queued").get("phase") == "Running")


MD = "/apis/llmops.io/v1alpha1/namespaces/ml/modeldeployments"


def monitor_status(cluster: Any, name: str) -> dict[str, Any]:
    return dict(obj(cluster, "llmops.io/v1alpha1/driftmonitors", "ml", name).get("status") or {})


def deployment_status(cluster: Any, name: str) -> dict[str, Any]:
    return dict(obj(cluster, "llmops.io/v1alpha1/modeldeployments", "ml", name).get("status") or {})


def routes_of(cluster: Any) -> dict[str, Any]:
    import yaml

    cm = obj(cluster, "v1/configmaps", "llmops", "llmops-routes")
    return {m["name"]: m for m in yaml.safe_load(cm["data"]["routes.yaml"])["models"]}


async def apps_running(cluster: Any, service: str, *apps: str) -> None:
    statuses = {a: {"status": "RUNNING"} for a in apps}
    await patch(
        cluster,
        f"/apis/ray.io/v1/namespaces/ml/rayservices/{service}/status",
        {"status": {"activeServiceStatus": {"applicationStatuses": statuses}}},
    )


async def test_modeldeployment_serves_the_alias_and_rolls_out_when_it_moves(cluster: Any) -> None:
    await add_nodes(cluster)
    aliases = Aliases(**{"bot@champion": "3", "bot@challenger": "4"})
    config = kube.config_for(str(cluster.url), nodePools=POOLS)
    async with kube.operator_in_thread(config, aliases) as memo:
        await create(cluster, MD, {
            "apiVersion": "llmops.io/v1alpha1", "kind": "ModelDeployment",
            "metadata": {"name": "bot", "namespace": "ml"},
            "spec": {"model": "bot", "alias": "champion", "engine": "vllm", "gpusPerReplica": 2, "gpuType": "nvidia-tesla-a100",
                     "replicas": {"min": 1, "max": 3}, "canary": {"alias": "challenger", "weight": 10},
                     "price": {"input": "0.15", "output": "0.6"}},
        })  # fmt: skip
        service = await kube.eventually(
            lambda: obj(cluster, "ray.io/v1/rayservices", "ml", "bot-serve")
        )
        import yaml

        serve = yaml.safe_load(service["spec"]["serveConfigV2"])
        apps = {a["name"]: a for a in serve["applications"]}
        assert set(apps) == {"bot-v3", "bot-v4"}
        assert apps["bot-v3"]["import_path"] == "llmops.serving.ray_app:app_from_args"
        assert apps["bot-v3"]["args"]["source"] == "models:/bot/3"
        assert apps["bot-v3"]["args"]["ray"]["replica_num_gpus"] == 2.0
        worker = service["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]
        assert worker["template"]["spec"]["nodeSelector"] == {"pool": "a100"}
        assert worker["template"]["spec"]["tolerations"][0]["key"] == "nvidia.com/gpu"
        assert (
            worker["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]
            == "2"
        )
        assert worker["maxReplicas"] == 3
        status = await kube.eventually(
            lambda: (
                deployment_status(cluster, "bot").get("phase") == "Deploying"
                and deployment_status(cluster, "bot")
            )
        )
        assert status.get("servedVersion") is None  # nothing is up yet: no route

        # KubeRay reports both applications running: routes appear, 90/10.
        await apps_running(cluster, "bot-serve", "bot-v3", "bot-v4")
        status = await kube.eventually(
            lambda: (
                deployment_status(cluster, "bot").get("phase") == "Ready"
                and deployment_status(cluster, "bot")
            )
        )
        assert status["servedVersion"] == "3" and status["canaryVersion"] == "4"
        route = await kube.eventually(lambda: routes_of(cluster)["bot"])
        assert [(v["version"], v["weight"]) for v in route["versions"]] == [
            ("3", 90.0),
            ("4", 10.0),
        ]
        assert route["versions"][0]["upstreams"] == [
            "http://bot-serve-serve-svc.ml.svc:8000/bot/v3/v1"
        ]
        assert route["price"] == {"input": "0.15", "output": "0.6"}
        text = memo.ctx.metrics.registry.get_sample_value(
            "llmops_model_version_info", {"model": "bot", "alias": "champion", "version": "3"}
        )
        assert text == 1.0

        # The champion alias moves to 5: v5 joins, v3 keeps serving until v5 is up.
        aliases.aliases["bot@champion"] = "5"
        await kube.eventually(
            lambda: (
                "bot-v5"
                in obj(cluster, "ray.io/v1/rayservices", "ml", "bot-serve")["spec"]["serveConfigV2"]
            )
        )
        rolling = await kube.eventually(
            lambda: (
                deployment_status(cluster, "bot").get("targetVersion") == "5"
                and deployment_status(cluster, "bot")
            )
        )
        assert rolling["servedVersion"] == "3" and rolling["phase"] == "Deploying"
        assert routes_of(cluster)["bot"]["versions"][0]["version"] == "3"
        await apps_running(cluster, "bot-serve", "bot-v3", "bot-v4", "bot-v5")
        await kube.eventually(lambda: deployment_status(cluster, "bot").get("servedVersion") == "5")
        await kube.eventually(lambda: routes_of(cluster)["bot"]["versions"][0]["version"] == "5")
        final = yaml.safe_load(
            obj(cluster, "ray.io/v1/rayservices", "ml", "bot-serve")["spec"]["serveConfigV2"]
        )
        assert {a["name"] for a in final["applications"]} == {"bot-v5", "bot-v4"}


DM = "/apis/llmops.io/v1alpha1/namespaces/ml/driftmonitors"


async def finish_check(cluster: Any, job: str, result: dict[str, Any]) -> None:
    await create(cluster, "/apis/batch/v1/namespaces/ml/jobs", {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": job, "namespace": "ml", "labels": {
            "app.kubernetes.io/managed-by": "llmops-operator", "llmops.io/owner-kind": "DriftMonitor", "llmops.io/owner-name": "watch"}},
        "spec": {"template": {"spec": {"containers": []}}},
    })  # fmt: skip
    await create(cluster, "/api/v1/namespaces/ml/pods", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"{job}-p", "namespace": "ml", "labels": {"job-name": job}},
        "spec": {"containers": [{"name": "drift-check", "image": "x"}]},
        "status": {"phase": "Succeeded", "containerStatuses": [{"name": "drift-check", "state": {"terminated": {"exitCode": 0, "message": orjson.dumps(result).decode()}}}]},
    })  # fmt: skip
    await patch(
        cluster, f"/apis/batch/v1/namespaces/ml/jobs/{job}/status", {"status": {"succeeded": 1}}
    )


async def test_driftmonitor_checks_on_a_schedule_and_retrains_once_per_episode(
    cluster: Any,
) -> None:
    config = kube.config_for(str(cluster.url), nodePools=POOLS)
    async with kube.operator_in_thread(config, Aliases()) as memo:
        await create(cluster, DM, {
            "apiVersion": "llmops.io/v1alpha1", "kind": "DriftMonitor",
            "metadata": {"name": "watch", "namespace": "ml"},
            "spec": {"deployment": "bot", "schedule": "*/5 * * * *", "minSamples": 100, "cooldown": "1h",
                     "thresholds": {"driftShare": 0.5},
                     "fineTuneTemplate": {"spec": {"datasets": ["/data/train.jsonl"], "outputModel": "bot", "gpuType": "nvidia-l4"}}},
        })  # fmt: skip
        cron = await kube.eventually(lambda: obj(cluster, "batch/v1/cronjobs", "ml", "watch-drift"))
        assert cron["spec"]["schedule"] == "*/5 * * * *"
        command = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0][
            "command"
        ][2]
        # The canary is judged first (its outcome only logged), then drift is checked.
        judge, check = command.split("; ", 1)
        assert judge.endswith("llmops drift canary --deployment bot --model bot --json >&2")
        assert check.startswith("llmops drift check --deployment bot --json")

        # Too few samples: drift share high but no verdict.
        await finish_check(cluster, "check-1", {"drift_share": 0.9, "samples": 20})
        first = await kube.eventually(
            lambda: (s := monitor_status(cluster, "watch")).get("lastCheckJob") == "check-1" and s
        )
        assert first["lastResult"]["drifted"] is False

        features = [{"feature": "prompt_tokens", "score": 0.001, "drifted": True}]
        await finish_check(
            cluster,
            "check-2",
            {
                "drift_share": 0.75,
                "samples": 500,
                "retrain_data": ["/data/window.jsonl"],
                "features": features,
            },
        )
        retrain = await kube.eventually(
            lambda: monitor_status(cluster, "watch").get("lastFineTuneJob")
        )
        # The check ran as a Job nobody scrapes: the operator exports its figures.
        figure = memo.ctx.metrics.registry.get_sample_value
        assert figure("llmops_drift_share", {"deployment": "bot"}) == 0.75
        assert figure("llmops_drift_detected", {"deployment": "bot"}) == 1.0
        assert (
            figure("llmops_drift_feature_score", {"deployment": "bot", "feature": "prompt_tokens"})
            == 0.001
        )
        job = obj(cluster, "llmops.io/v1alpha1/finetunejobs", "ml", retrain)
        assert job["spec"]["datasets"] == ["/data/window.jsonl", "/data/train.jsonl"]
        assert job["metadata"]["labels"]["llmops.io/owner-name"] == "watch"

        # The same episode drifts on: no second retrain.
        await finish_check(cluster, "check-3", {"drift_share": 0.8, "samples": 500})
        third = await kube.eventually(
            lambda: (s := monitor_status(cluster, "watch")).get("lastCheckJob") == "check-3" and s
        )
        assert third["lastResult"]["decision"] == "AlreadyRetrained"
        assert len(live(cluster, "llmops.io/v1alpha1/finetunejobs")) == 1


async def test_driftmonitor_feedback_starts_a_dpo_retrain_and_judges_its_shadow(
    cluster: Any,
) -> None:
    config = kube.config_for(str(cluster.url), nodePools=POOLS)
    async with kube.operator_in_thread(config, Aliases()):
        await create(cluster, DM, {
            "apiVersion": "llmops.io/v1alpha1", "kind": "DriftMonitor",
            "metadata": {"name": "watch", "namespace": "ml"},
            "spec": {"deployment": "bot", "minSamples": 100,
                     "fineTuneTemplate": {"spec": {"datasets": ["/data/train.jsonl"], "outputModel": "bot"}},
                     "feedback": {"minNew": 50, "cooldown": "1h",
                                  "shadow": {"soak": "10m", "minRequests": 5},
                                  "fineTuneTemplate": {"spec": {
                                      "outputModel": "bot", "base": "models:/bot@champion",
                                      "promotion": {"to": "shadow", "gates": ["reward_margin>0"]}}}}},
        })  # fmt: skip

        def command() -> str:
            cron = obj(cluster, "batch/v1/cronjobs", "ml", "watch-drift")
            return str(cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][2])  # fmt: skip

        await kube.eventually(lambda: obj(cluster, "batch/v1/cronjobs", "ml", "watch-drift"))
        shadow, canary, check = command().split("; ", 2)
        # The shadow is judged first (after its soak it becomes challenger or loses @shadow).
        assert "llmops drift shadow --deployment bot --model bot --alias shadow --json" in shadow
        assert "llmops drift canary" in canary
        assert check.startswith("llmops drift check --deployment bot --feedback-since all --json")
        env = {
            e["name"]: e.get("value")
            for e in obj(cluster, "batch/v1/cronjobs", "ml", "watch-drift")["spec"]["jobTemplate"][
                "spec"
            ]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["LLMOPS_DRIFT__FEEDBACK__SHADOW_SECONDS"] == "600"
        assert env["LLMOPS_DRIFT__FEEDBACK__MIN_SHADOW_REQUESTS"] == "5"

        # Too little feedback: nothing starts.
        await finish_check(cluster, "check-1", {"samples": 500, "feedback": {"new": 12}})
        first = await kube.eventually(
            lambda: (s := monitor_status(cluster, "watch")).get("lastCheckJob") == "check-1" and s
        )
        assert first["lastResult"]["feedbackDecision"] == "FeedbackBelowMinimum"
        assert live(cluster, "llmops.io/v1alpha1/finetunejobs") == []

        await finish_check(cluster, "check-2", {"samples": 500, "feedback": {"new": 64}})
        name = await kube.eventually(
            lambda: monitor_status(cluster, "watch").get("lastFeedbackJob")
        )
        job = obj(cluster, "llmops.io/v1alpha1/finetunejobs", "ml", name)
        assert job["spec"]["recipe"] == "dpo" and job["spec"]["datasets"] == []
        assert job["spec"]["feedbackPairs"] == {"model": "bot", "minPairs": 8}  # all feedback
        assert job["spec"]["promotion"]["to"] == "shadow"
        assert job["spec"]["retries"] == {"limit": 0}

        # While it runs, more feedback starts nothing, and the cut-off stays.
        await patch(
            cluster,
            f"/apis/llmops.io/v1alpha1/namespaces/ml/finetunejobs/{name}/status",
            {"status": {"phase": "Running"}},
        )
        await finish_check(cluster, "check-3", {"samples": 500, "feedback": {"new": 80}})
        third = await kube.eventually(
            lambda: (s := monitor_status(cluster, "watch")).get("lastCheckJob") == "check-3" and s
        )
        assert third["lastResult"]["feedbackDecision"] == "RetrainRunning"
        assert "--feedback-since all --json" in command()

        # Once it succeeded, the next checks count only the feedback given since it started;
        # the cooldown holds the next retrain.
        await patch(
            cluster,
            f"/apis/llmops.io/v1alpha1/namespaces/ml/finetunejobs/{name}/status",
            {"status": {"phase": "Succeeded"}},
        )
        await finish_check(cluster, "check-4", {"samples": 500, "feedback": {"new": 90}})
        fourth = await kube.eventually(
            lambda: (s := monitor_status(cluster, "watch")).get("lastCheckJob") == "check-4" and s
        )
        assert fourth["lastResult"]["feedbackDecision"] == "FeedbackCoolingDown"
        since = fourth["lastFeedbackRetrainTime"]
        assert fourth["feedbackSince"] == since
        await kube.eventually(lambda: f"--feedback-since {since} --json" in command())
        assert live(cluster, "llmops.io/v1alpha1/finetunejobs") == [name]
