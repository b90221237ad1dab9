"""``helm install`` of the chart into the test cluster with the project's Helm engine:
every object accepted by the API server, every workload rolled out on the system pool,
``helm test``, ``helm upgrade`` and ``helm uninstall`` (CRDs kept, as Helm does)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import helm_python
import pytest
import yaml

from tests.support import chart
from tests.support.cluster.controlplane import Cluster
from tests.support.cluster.nodes import POOL_LABEL
from tests.support.cluster.objects import Objects, eventually

OUR_CRDS = ("modeldeployments.llmops.io", "finetunejobs.llmops.io", "driftmonitors.llmops.io")


@pytest.fixture
def helm(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[helm_python.Config]:
    namespace = f"chart-{request.node.callspec.id}"
    with helm_python.Config(kubeconfig_path=cluster.kubeconfig, namespace=namespace) as config:
        yield config


def release_objects(release: dict[str, Any]) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(release["manifest"]) if doc]


def rolled_out(kube: Objects, namespace: str) -> bool:
    workloads = kube.list("apps/v1", "Deployment", namespace) + kube.list(
        "apps/v1", "StatefulSet", namespace
    )
    assert workloads, "the release has no workloads"
    return all((w["status"].get("readyReplicas") or 0) == w["spec"]["replicas"] for w in workloads)


def gone(kube: Objects, obj: dict[str, Any], namespace: str) -> bool:
    meta = obj["metadata"]
    return kube.get(obj["apiVersion"], obj["kind"], meta["name"], namespace) is None


@pytest.mark.parametrize("profile", ["default", "gpu"])
def test_the_chart_installs_rolls_out_upgrades_and_uninstalls(
    profile: str, helm: helm_python.Config, kube: Objects
) -> None:
    namespace = f"chart-{profile}"
    values = chart.profile(profile)
    release = helm.install(
        chart.CHART, "llmops", values, create_namespace=True, wait="watcher", timeout=240
    )
    assert release["status"] == "deployed" and release["revision"] == 1, release["status"]

    # Every object Helm sent was accepted and stored.
    sent = release_objects(release)
    for obj in sent:
        meta = obj["metadata"]
        stored = kube.get(
            obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace") or namespace
        )
        assert stored is not None, f"{obj['kind']}/{meta['name']} was not stored"
    kinds = {obj["kind"] for obj in sent}
    assert {"Deployment", "StatefulSet", "Service", "ConfigMap", "Role", "ClusterRole"} <= kinds
    if profile == "gpu":
        # The chart's ModelDeployment, validated against our CRD as served (defaults applied).
        deployment = kube.get("llmops.io/v1alpha1", "ModelDeployment", "assistant", namespace)
        assert deployment is not None
        assert deployment["spec"]["replicas"]["targetOngoingRequests"] == 16
        assert deployment["spec"]["canary"]["alias"] == "challenger"

    # Rolled out: kwok's kubelets run the pods the scheduler bound, all on the CPU pool
    # (the GPU pools' taint keeps them off).
    eventually(lambda: rolled_out(kube, namespace), timeout=120, what="workloads ready")
    pods = kube.list("v1", "Pod", namespace)
    nodes = {n["metadata"]["name"]: n for n in kube.list("v1", "Node")}
    for pod in pods:
        assert pod["status"]["phase"] == "Running", pod["metadata"]["name"]
        node = nodes[pod["spec"]["nodeName"]]
        assert node["metadata"]["labels"][POOL_LABEL] == "system", pod["metadata"]["name"]
    # Claims bound to volumes by the controller manager.
    for claim in kube.list("v1", "PersistentVolumeClaim", namespace):
        assert claim["status"]["phase"] == "Bound", claim["metadata"]["name"]

    # `helm test` creates its hook pod, which the fake kubelet runs to success (its
    # script does not run: kwok runs no container).
    tested = helm.test("llmops", timeout=120)
    assert tested["release"]["status"] == "deployed", tested
    hooks = [h for h in helm.get_all("llmops")["hooks"] if "test" in h["events"]]
    assert [(h["kind"], h["last_run"]["phase"]) for h in hooks] == [("Pod", "Succeeded")], hooks

    # `helm upgrade` to a fixed number of gateways: a new revision, the autoscaler gone.
    fixed = {"replicas": 3, "autoscaling": {"enabled": False}}
    upgraded = helm.upgrade(
        chart.CHART,
        "llmops",
        {**values, "gateway": {**values.get("gateway", {}), **fixed}},
        wait="watcher",
        timeout=240,
    )
    assert upgraded["revision"] == 2 and upgraded["status"] == "deployed", upgraded["status"]
    gateway = next(
        d
        for d in kube.list("apps/v1", "Deployment", namespace)
        if d["metadata"]["name"].endswith("gateway")
    )
    assert gateway["spec"]["replicas"] == 3
    assert kube.list("autoscaling/v2", "HorizontalPodAutoscaler", namespace) == []
    eventually(lambda: rolled_out(kube, namespace), timeout=120, what="upgrade rolled out")

    # `helm uninstall`: the release's objects go, but for those it keeps on purpose (the
    # generated secrets); the CRDs stay, as Helm never deletes them.
    helm.uninstall("llmops", wait="watcher", timeout=120)
    for obj in sent:
        meta = obj["metadata"]
        where = meta.get("namespace") or namespace
        if (meta.get("annotations") or {}).get("helm.sh/resource-policy") == "keep":
            assert kube.get(obj["apiVersion"], obj["kind"], meta["name"], where) is not None
            continue
        eventually(
            partial(gone, kube, obj, where),
            timeout=60,
            what=f"{obj['kind']}/{meta['name']} deleted",
        )
    for name in OUR_CRDS:
        assert kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name) is not None
