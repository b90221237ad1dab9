"""The test cluster's fake nodes, shaped like the pools the chart and Terraform declare:
a CPU system pool and the GPU pools of the chart's ``gpu`` values profile, each node
labelled ``llmops.io/node-pool`` and ``llmops.io/gpu-type``, with ``nvidia.com/gpu``
capacity and the ``nvidia.com/gpu=present:NoSchedule`` taint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support import chart
from tests.support.cluster.controlplane import KWOK_NODE_ANNOTATION

POOL_LABEL = "llmops.io/node-pool"
GPU_TYPE_LABEL = "llmops.io/gpu-type"
GPU = "nvidia.com/gpu"
GPU_TAINT = {"key": GPU, "value": "present", "effect": "NoSchedule"}


@dataclass(frozen=True)
class Pool:
    name: str
    nodes: int
    gpus_per_node: int = 0
    gpu_type: str | None = None


def pools() -> list[Pool]:
    """The system pool (two CPU nodes) and one node of each of the chart's GPU pools
    (two of the first), with the chart's GPUs per node."""
    gpu_pools = chart.profile("gpu")["operator"]["nodePools"]
    found = [Pool("system", nodes=2)]
    for index, pool in enumerate(gpu_pools):
        found.append(
            Pool(pool["name"], 2 if index == 0 else 1, pool["gpusPerNode"], pool["gpuType"])
        )
    return found


def fake_node(
    name: str, labels: dict[str, str], gpus: int = 0, taints: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """A node kwok runs, with this capacity (32 CPUs, 128 GiB, ``gpus`` GPUs)."""
    capacity = {"cpu": "32", "memory": "128Gi", "pods": "110"}
    if gpus:
        capacity[GPU] = str(gpus)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {**labels, "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok"},
            "annotations": {KWOK_NODE_ANNOTATION: "fake"},
        },
        "spec": {"taints": taints} if taints else {},
        "status": {"capacity": capacity, "allocatable": capacity},
    }  # fmt: skip


def node(pool: Pool, index: int) -> dict[str, Any]:
    labels = {POOL_LABEL: pool.name}
    if pool.gpu_type:
        labels[GPU_TYPE_LABEL] = pool.gpu_type
        return fake_node(f"{pool.name}-{index}", labels, pool.gpus_per_node, [GPU_TAINT])
    return fake_node(f"{pool.name}-{index}", labels)


def all_nodes() -> list[dict[str, Any]]:
    return [node(pool, i) for pool in pools() for i in range(pool.nodes)]


STORAGE_CLASS = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {
        "name": "standard",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    },
    "provisioner": "kubernetes.io/no-provisioner",
    "volumeBindingMode": "Immediate",
    "reclaimPolicy": "Retain",
}


def volume(index: int) -> dict[str, Any]:
    """A pre-made volume of the default class for the chart's claims (no provisioner
    runs here; the controller manager binds claims to these). Retained: nothing is ever
    written to them, and each binds once."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"volume-{index}"},
        "spec": {
            "capacity": {"storage": "100Gi"},
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "standard",
            "persistentVolumeReclaimPolicy": "Retain",
            "hostPath": {"path": f"/tmp/llmops-test-volume-{index}"},
        },
    }
