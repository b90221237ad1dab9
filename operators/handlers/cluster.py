"""Watches of nodes, pods and the Jobs we placed: the capacity placement reads."""

from __future__ import annotations

from typing import Any

import kopf

from operators import capacity, labels
from operators.context import ClusterState


def _job_of(meta: kopf.Meta) -> str | None:
    pod_labels = meta.get("labels") or {}
    job = pod_labels.get("job-name") or pod_labels.get("batch.kubernetes.io/job-name")
    if job is None:
        job = pod_labels.get("ray.io/cluster")  # RayJob workers: the cluster named after the job
    return f"{meta.get('namespace')}/{job}" if job else None


def see_node(state: ClusterState, event: str | None, body: kopf.Body) -> None:
    name = body["metadata"]["name"]
    if event == "DELETED":
        state.nodes.pop(name, None)
    else:
        state.nodes[name] = capacity.node_info(
            name, body["metadata"].get("labels"), body.get("status") or {}
        )


def see_pod(state: ClusterState, event: str | None, body: kopf.Body) -> None:
    meta = body["metadata"]
    uid = str(meta.get("uid") or f"{meta.get('namespace')}/{meta['name']}")
    load = (
        None
        if event == "DELETED"
        else capacity.pod_load(body.get("spec") or {}, body.get("status") or {})
    )
    if load is None:
        state.pods.pop(uid, None)
    else:
        state.pods[uid] = load
        job = _job_of(meta)
        if job is not None:
            state.bound_jobs.add(job)


def see_job(state: ClusterState, event: str | None, body: kopf.Body) -> None:
    """A Job we placed: once finished or gone it holds nothing; on a restart, an unbound
    one is held against its pool again."""
    from operators import phases  # noqa: PLC0415 (keeps this module's imports to the watch)

    meta = body["metadata"]
    job_key = f"{meta['namespace']}/{meta['name']}"
    finished = event == "DELETED" or phases.child_state(body) in (
        phases.ChildState.SUCCEEDED,
        phases.ChildState.FAILED,
    )
    if finished:
        state.reservations.pop(job_key, None)
        state.bound_jobs.discard(job_key)
        return
    if job_key in state.reservations:
        return
    pool = (meta.get("labels") or {}).get(labels.NODE_POOL)
    if pool is None:
        return
    spec = body.get("spec") or {}
    if body.get("kind") == "RayJob":
        groups = (spec.get("rayClusterSpec") or {}).get("workerGroupSpecs") or [{}]
        nodes = int(groups[0].get("replicas") or 1)
        template = groups[0].get("template") or {}
    else:
        nodes, template = 1, spec.get("template") or {}
    gpus = capacity.pod_gpus(template.get("spec") or {})
    state.reservations[job_key] = capacity.Reservation(job_key, pool, gpus, nodes)


def register(registry: kopf.OperatorRegistry) -> None:
    @kopf.on.event("", "v1", "nodes", registry=registry)
    async def node_seen(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
        see_node(memo.ctx.cluster, type, body)

    @kopf.on.event("", "v1", "pods", registry=registry)
    async def pod_seen(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
        see_pod(memo.ctx.cluster, type, body)

    for group, version, plural in (("batch", "v1", "jobs"), ("ray.io", "v1", "rayjobs")):

        @kopf.on.event(
            group, version, plural, registry=registry, labels={labels.MANAGED_BY: labels.MANAGER}
        )
        async def placed_job_seen(
            body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any
        ) -> None:
            see_job(memo.ctx.cluster, type, body)
