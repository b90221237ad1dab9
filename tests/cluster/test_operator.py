"""The real operator (``llmops operator run``) against the test cluster, installed by the
chart's ``gpu`` profile and running under the chart's service account and RBAC: a missing
verb fails these tests. Jobs' pods are bound by the real scheduler to kwok's fake nodes.
KubeRay's operator runs in the last test only: before it, a test writes the RayService
status KubeRay would (its Serve applications cannot run on fake nodes)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import helm_python
import pytest
import yaml
from mlflow import MlflowClient

from tests.support import chart
from tests.support.cluster.controlplane import Cluster
from tests.support.cluster.nodes import GPU, POOL_LABEL
from tests.support.cluster.objects import Objects, eventually
from tests.support.cluster.operator import OperatorProcess, chart_config, service_account_token
from tests.support.services import free_port

NAMESPACE = "llmops"
API = "llmops.io/v1alpha1"
REFUSED = ("APIForbiddenError", "is forbidden: User")


@pytest.fixture(scope="module")
def operator(
    cluster: Cluster, kube: Objects, mlflow_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """The chart installed with its GPU pools and ModelDeployment, the registry holding
    that deployment's champion and challenger, and the operator running."""
    registry = MlflowClient(tracking_uri=mlflow_url)
    registry.create_registered_model("assistant")
    for alias in ("champion", "challenger"):
        version = registry.create_model_version(
            "assistant", source=f"s3://models/assistant/{alias}"
        )
        registry.set_registered_model_alias("assistant", alias, version.version)
    with helm_python.Config(kubeconfig_path=cluster.kubeconfig, namespace=NAMESPACE) as helm:
        helm.install(chart.CHART, "llmops", chart.profile("gpu"), create_namespace=True)
    token = service_account_token(kube, NAMESPACE, "llmops-operator")
    config = chart_config(
        kube, NAMESPACE, "llmops-operator",
        mlflow={"trackingUri": mlflow_url},
        metricsPort=0,
        timing={"aliasPollSeconds": 1, "pendingRetrySeconds": 1},
    )  # fmt: skip
    process = OperatorProcess(cluster, token, config, tmp_path_factory.mktemp("operator"))
    process.start()
    yield process
    process.stop()


@pytest.fixture
def op(operator: OperatorProcess) -> Iterator[OperatorProcess]:
    """The running operator; after each test, its log shows no request the RBAC refused."""
    if not operator.alive():  # a test that failed between a kill and a start
        operator.start()
    start = len(operator.log())
    yield operator
    written = operator.log()[start:].splitlines()
    refused = [line for line in written if any(w in line for w in REFUSED)]
    assert not refused, "the operator was refused by the API server:\n" + "\n".join(refused[:20])


def finetunejob(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "FineTuneJob",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"datasets": ["s3://data/train.jsonl"], "outputModel": "assistant", **spec},
    }


def status(kube: Objects, name: str) -> dict[str, Any]:
    found = kube.get(API, "FineTuneJob", name, NAMESPACE) or {}
    return dict(found.get("status") or {})


def phase(kube: Objects, name: str, wanted: str) -> dict[str, Any] | None:
    current = status(kube, name)
    return current if current.get("phase") == wanted else None


def jobs_of(kube: Objects, name: str) -> list[str]:
    found = kube.list("batch/v1", "Job", NAMESPACE)
    owned = [
        j["metadata"]["name"]
        for j in found
        if any(o["name"] == name for o in j["metadata"].get("ownerReferences") or [])
    ]
    return sorted(owned)


def pod_of(kube: Objects, job: str) -> dict[str, Any] | None:
    pods = kube.list("v1", "Pod", NAMESPACE, selector=f"batch.kubernetes.io/job-name={job}")
    return pods[0] if pods and pods[0]["spec"].get("nodeName") else None


def node_pool(kube: Objects, node: str) -> str:
    found = kube.get("v1", "Node", node)
    assert found is not None
    return str(found["metadata"]["labels"][POOL_LABEL])


def end_pod(kube: Objects, job: str) -> None:
    """The held pod's container exits 0, as its kubelet would report."""
    pod = eventually(lambda: pod_of(kube, job), what=f"a pod of {job}")
    container = pod["spec"]["containers"][0]["name"]
    kube.patch_status("v1", "Pod", pod["metadata"]["name"], NAMESPACE, {
        "phase": "Succeeded",
        "containerStatuses": [{
            "name": container, "image": pod["spec"]["containers"][0]["image"], "ready": False,
            "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
        }],
    })  # fmt: skip


def test_a_finetunejob_runs_on_its_gpu_pool_as_the_scheduler_places_it(
    op: OperatorProcess, kube: Objects
) -> None:
    kube.apply(finetunejob("tune", gpuType="nvidia-l4", gpus=2, hyperparameters={"maxSteps": 5}))
    eventually(lambda: jobs_of(kube, "tune") == ["tune-ft1"], what="the Job")
    pod = eventually(lambda: pod_of(kube, "tune-ft1"), what="the Job's pod bound to a node")
    # The scheduler could bind it only where the selector, toleration and GPUs allow.
    assert node_pool(kube, pod["spec"]["nodeName"]) == "gpu-l4"
    spec = pod["spec"]
    assert spec["nodeSelector"] == {POOL_LABEL: "gpu-l4"}
    assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in [
        {k: t.get(k) for k in ("key", "operator", "effect")} for t in spec["tolerations"]
    ]
    assert spec["containers"][0]["resources"]["limits"][GPU] == "2"
    done = eventually(lambda: phase(kube, "tune", "Succeeded"), what="tune Succeeded")
    assert done["nodePool"] == "gpu-l4"


def test_a_failed_attempt_is_retried_and_an_always_failing_job_fails_for_good(
    op: OperatorProcess, kube: Objects
) -> None:
    # kwok fails the first attempt of flaky-* and every attempt of fail-*.
    kube.apply(
        finetunejob("flaky-tune", gpuType="nvidia-l4", retries={"limit": 2, "backoffSeconds": 1})
    )
    kube.apply(
        finetunejob("fail-tune", gpuType="nvidia-l4", retries={"limit": 1, "backoffSeconds": 1})
    )
    done = eventually(lambda: phase(kube, "flaky-tune", "Succeeded"), what="flaky-tune Succeeded")
    # The failed attempt's Job is removed when the next one starts.
    assert done["attempt"] == 2
    assert jobs_of(kube, "flaky-tune") == ["flaky-tune-ft2"]
    failed = eventually(lambda: phase(kube, "fail-tune", "Failed"), what="fail-tune Failed")
    assert failed["reason"] == "BackoffLimitExceeded"
    assert failed["attempt"] == 2
    assert jobs_of(kube, "fail-tune") == ["fail-tune-ft2"]


def test_a_full_pool_holds_a_job_pending_until_capacity_frees(
    op: OperatorProcess, kube: Objects
) -> None:
    a100 = {"gpuType": "nvidia-tesla-a100", "gpus": 8}
    kube.apply(finetunejob("hold-first", **a100))
    first = eventually(lambda: pod_of(kube, "hold-first-ft1"), what="the first Job's pod bound")
    assert node_pool(kube, first["spec"]["nodeName"]) == "gpu-a100"
    eventually(lambda: phase(kube, "hold-first", "Running"), what="hold-first Running")

    kube.apply(finetunejob("hold-second", **a100))
    waiting = eventually(lambda: phase(kube, "hold-second", "Pending"), what="hold-second Pending")
    assert waiting["reason"] == "InsufficientCapacity", waiting
    assert jobs_of(kube, "hold-second") == []

    end_pod(kube, "hold-first-ft1")
    eventually(lambda: phase(kube, "hold-first", "Succeeded"), what="hold-first Succeeded")
    second = eventually(lambda: pod_of(kube, "hold-second-ft1"), what="the second Job's pod bound")
    assert second["spec"]["nodeName"] == first["spec"]["nodeName"]
    end_pod(kube, "hold-second-ft1")
    eventually(lambda: phase(kube, "hold-second", "Succeeded"), what="hold-second Succeeded")


def test_an_operator_killed_midway_converges_without_duplicates(
    op: OperatorProcess, kube: Objects
) -> None:
    op.kill()
    names = [f"hold-restart-{i}" for i in range(4)]
    for name in names:
        kube.apply(finetunejob(name, gpuType="nvidia-l4", gpus=1))
    op.start()
    # Killed again as soon as a first Job exists, before the rest are (usually) placed.
    eventually(lambda: any(jobs_of(kube, n) for n in names), what="a first Job")
    op.kill()
    op.start()
    for name in names:
        eventually(partial(phase, kube, name, "Running"), what=f"{name} Running")
    for name in names:
        assert jobs_of(kube, name) == [f"{name}-ft1"]
    # Four one-GPU Jobs on the pool's four GPUs: every pod bound, one GPU each.
    bound = [eventually(partial(pod_of, kube, f"{name}-ft1")) for name in names]
    assert {node_pool(kube, p["spec"]["nodeName"]) for p in bound} == {"gpu-l4"}
    for name in names:
        end_pod(kube, f"{name}-ft1")
    for name in names:
        eventually(partial(phase, kube, name, "Succeeded"), what=f"{name} Succeeded")


def routes(kube: Objects) -> dict[str, Any]:
    found = kube.get("v1", "ConfigMap", "llmops-routes", NAMESPACE)
    if not found or not (found.get("data") or {}).get("routes.yaml"):
        return {}
    return {m["name"]: m for m in yaml.safe_load(found["data"]["routes.yaml"])["models"]}


def test_the_charts_modeldeployment_becomes_a_rayservice_and_routes(
    op: OperatorProcess, kube: Objects
) -> None:
    service = eventually(
        lambda: kube.get("ray.io/v1", "RayService", "assistant-serve", NAMESPACE), what="RayService"
    )
    # Accepted by KubeRay's own CRD schema, as the API server serves it.
    serve = yaml.safe_load(service["spec"]["serveConfigV2"])
    assert {a["name"] for a in serve["applications"]} == {"assistant-v1", "assistant-v2"}
    worker = service["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]["spec"]
    assert worker["nodeSelector"] == {POOL_LABEL: "gpu-l4"}
    assert worker["containers"][0]["resources"]["limits"][GPU] == "1"

    # KubeRay would report both Serve applications running; then the routes appear.
    statuses = {app: {"status": "RUNNING"} for app in ("assistant-v1", "assistant-v2")}
    kube.patch_status("ray.io/v1", "RayService", "assistant-serve", NAMESPACE,
                      {"activeServiceStatus": {"applicationStatuses": statuses}})  # fmt: skip
    route = eventually(lambda: routes(kube).get("assistant"), what="the assistant's route")
    assert [(v["version"], v["weight"]) for v in route["versions"]] == [("1", 90.0), ("2", 10.0)]
    deployment = kube.get(API, "ModelDeployment", "assistant", NAMESPACE)
    assert deployment is not None
    assert deployment["status"]["servedVersion"] == "1"


def test_a_driftmonitor_gets_its_cronjob(op: OperatorProcess, kube: Objects) -> None:
    kube.apply({
        "apiVersion": API, "kind": "DriftMonitor",
        "metadata": {"name": "assistant-drift", "namespace": NAMESPACE},
        "spec": {"deployment": "assistant", "schedule": "*/10 * * * *",
                 "fineTuneTemplate": {"spec": {"datasets": ["s3://data/train.jsonl"], "outputModel": "assistant", "gpuType": "nvidia-l4"}}},
    })  # fmt: skip
    cron = eventually(
        lambda: kube.get("batch/v1", "CronJob", "assistant-drift-drift", NAMESPACE), what="CronJob"
    )
    assert cron["spec"]["schedule"] == "*/10 * * * *"
    command = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert "llmops drift check --deployment assistant" in command[-1]


def test_kuberay_turns_the_rayservice_into_pods_on_the_pools(
    op: OperatorProcess, kube: Objects, cluster: Cluster
) -> None:
    """KubeRay's own operator: the RayService the operator rendered becomes a RayCluster
    whose head lands on the CPU pool and whose GPU workers land on the GPU pool."""
    kuberay = cluster.start("kuberay-operator", [
        str(cluster.assets.kuberay_operator), "--kubeconfig", str(cluster.kubeconfig),
        "--enable-leader-election=false", "--watch-namespace", NAMESPACE,
        "--metrics-addr", "0", "--health-probe-bind-address", f"127.0.0.1:{free_port()}",
    ])  # fmt: skip
    try:
        ray_cluster = eventually(
            lambda: next(iter(kube.list("ray.io/v1", "RayCluster", NAMESPACE)), None),
            what="KubeRay's RayCluster for the RayService",
        )
        owner = ray_cluster["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"]) == ("RayService", "assistant-serve")
        name = ray_cluster["metadata"]["name"]
        worker_group = ray_cluster["spec"]["workerGroupSpecs"][0]

        def bound(group: str) -> list[dict[str, Any]] | None:
            selector = f"ray.io/cluster={name},ray.io/node-type={group}"
            pods = kube.list("v1", "Pod", NAMESPACE, selector=selector)
            return pods if pods and all(p["spec"].get("nodeName") for p in pods) else None

        heads = eventually(lambda: bound("head"), what="the head pod bound")
        expected = worker_group["replicas"]
        workers = eventually(
            lambda: (w := bound("worker")) and len(w) == expected and w,
            what=f"the {expected} GPU worker pods bound",
        )
        assert {node_pool(kube, p["spec"]["nodeName"]) for p in heads} == {"system"}
        assert {node_pool(kube, p["spec"]["nodeName"]) for p in workers} == {"gpu-l4"}
        assert kuberay.poll() is None, cluster.log("kuberay-operator")[-3000:]
    finally:
        cluster.stop("kuberay-operator")
        for found in kube.list("ray.io/v1", "RayCluster", NAMESPACE):  # its pods go with it
            kube.delete("ray.io/v1", "RayCluster", found["metadata"]["name"], NAMESPACE)
