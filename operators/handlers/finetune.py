"""FineTuneJob: place it, run it as a Job or RayJob, follow it to a phase, retry it."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import kopf

from operators import capacity, conditions, errors, kube, labels, phases, placement
from operators.config import OperatorConfig
from operators.context import Context
from operators.render import finetune as render

TERMINAL = ("Succeeded", "Failed")


def key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def request_of(spec: Mapping[str, Any]) -> placement.PlacementRequest:
    return placement.PlacementRequest(
        gpus_per_node=int(spec.get("gpus", 1)),
        nodes=int(spec.get("nodes", 1)),
        gpu_type=spec.get("gpuType"),
        pool=spec.get("nodePool"),
    )


def _status(phase: str, reason: str, message: str, **fields: Any) -> dict[str, Any]:
    return {"phase": phase, "reason": reason, "message": message, **fields}


async def write_status(ctx: Context, body: Mapping[str, Any], status: dict[str, Any]) -> None:
    meta = body["metadata"]
    previous = body.get("status") or {}
    status["conditions"] = conditions.merge(
        previous.get("conditions"),
        conditions.for_phase(status["phase"], status["reason"], status.get("message", "")),
        generation=meta.get("generation"),
    )
    ctx.metrics.job_phases[key(meta["namespace"], meta["name"])] = status["phase"]
    await ctx.kube.patch(
        kube.FINETUNEJOBS, meta["namespace"], meta["name"], {"status": status}, sub="status"
    )


async def _place(ctx: Context, body: Mapping[str, Any], attempt: int) -> dict[str, Any]:
    """Create the attempt's Job/RayJob on a pool that fits, or say why it waits."""
    meta, spec = body["metadata"], body["spec"]
    config = ctx.config
    request = request_of(spec)
    async with ctx.placement_lock:
        state = ctx.cluster
        pools = capacity.pool_capacities(
            config.node_pools,
            state.nodes.values(),
            state.pods.values(),
            state.unbound_reservations(),
        )
        if config.kueue.enabled:
            # Kueue admits by quota; the pool only needs the right GPU type.
            pools = [
                placement.PoolCapacity(
                    p.name, p.gpu_type, p.priority, (1 << 20,) * max(1, request.nodes)
                )
                for p in pools
            ]
        decision = placement.place(pools, request)
        if not decision.placed:
            return _status("Pending", decision.reason, decision.message, attempt=attempt - 1)
        pool = config.pool(decision.pool or "")
        assert pool is not None
        queue = (spec.get("queue") or config.kueue.default_queue) if config.kueue.enabled else None
        manifest = render.render(body, config, render.Attempt(attempt, pool, queue))
        child_key = key(meta["namespace"], manifest["metadata"]["name"])
        state.reservations[child_key] = capacity.Reservation(
            child_key, pool.name, request.gpus_per_node, request.nodes
        )
    try:
        child, _ = await ctx.kube.ensure(manifest)
    except errors.ApiError:
        ctx.cluster.reservations.pop(child_key, None)
        raise
    placed_pool = (child.get("metadata", {}).get("labels") or {}).get(labels.NODE_POOL, pool.name)
    phase, reason = ("Queued", "WaitingForKueue") if queue else ("Running", "JobCreated")
    return _status(
        phase,
        reason,
        f"{manifest['kind']} {manifest['metadata']['name']} on node pool {placed_pool}",
        attempt=attempt,
        nodePool=placed_pool,
        jobKind=manifest["kind"],
        jobName=manifest["metadata"]["name"],
        startTime=(body.get("status") or {}).get("startTime") or conditions.now(),
        retryAfter=None,
    )


async def _result(ctx: Context, namespace: str, job_name: str) -> dict[str, Any] | None:
    for pod in await ctx.kube.list(kube.PODS, namespace):
        pod_labels = pod.get("metadata", {}).get("labels") or {}
        if (
            pod_labels.get("job-name") == job_name
            or pod_labels.get("batch.kubernetes.io/job-name") == job_name
        ):
            result = phases.termination_result(pod)
            if result is not None:
                return result
    return None


async def _follow(
    ctx: Context, body: Mapping[str, Any], child: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The status that the child's state implies (``None``: leave it as it is)."""
    meta, spec, status = body["metadata"], body["spec"], body.get("status") or {}
    attempt = int(status.get("attempt") or 1)
    child_name = child["metadata"]["name"]
    state = phases.child_state(child)
    if state is phases.ChildState.SUSPENDED:
        return _status(
            "Queued", "WaitingForKueue", f"{child['kind']} {child_name} waits for admission"
        )
    if state is phases.ChildState.RUNNING:
        return _status("Running", "JobRunning", f"{child['kind']} {child_name} is running")
    ctx.cluster.reservations.pop(key(meta["namespace"], child_name), None)
    if state is phases.ChildState.SUCCEEDED:
        result = await _result(ctx, meta["namespace"], child_name) or {}
        return _status(
            "Succeeded",
            "Registered" if result.get("version") else "Completed",
            f"registered {result.get('model', spec['outputModel'])} version {result.get('version', '?')}",
            runId=result.get("run_id"),
            registeredVersion=result.get("version"),
            completionTime=conditions.now(),
        )
    retries = spec.get("retries") or {}
    limit = int(retries.get("limit", 2))
    if attempt > limit:
        return _status(
            "Failed",
            "BackoffLimitExceeded",
            f"{attempt} attempt(s) failed",
            completionTime=conditions.now(),
        )
    retry_after = status.get("retryAfter")
    if not retry_after:
        wait = phases.backoff_seconds(int(retries.get("backoffSeconds", 30)), attempt)
        at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=wait)
        return _status(
            "Retrying",
            "JobFailed",
            f"attempt {attempt} failed; attempt {attempt + 1} in {wait}s",
            retryAfter=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    return None


def _due(retry_after: str) -> bool:
    at = datetime.datetime.strptime(retry_after, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    return datetime.datetime.now(datetime.UTC) >= at


async def reconcile(ctx: Context, body: Mapping[str, Any]) -> None:
    """Move one FineTuneJob on: level-triggered, so a repeat (or a restart) changes nothing."""
    meta = body["metadata"]
    if meta.get("deletionTimestamp"):
        return
    async with ctx.object_locks[key(meta["namespace"], meta["name"])]:
        fresh = await ctx.kube.get(kube.FINETUNEJOBS, meta["namespace"], meta["name"])
        if fresh is None or fresh.get("metadata", {}).get("deletionTimestamp"):
            return
        await _reconcile(ctx, fresh)


async def _reconcile(ctx: Context, body: dict[str, Any]) -> None:
    meta, status = body["metadata"], body.get("status") or {}
    phase = status.get("phase")
    ctx.metrics.job_phases[key(meta["namespace"], meta["name"])] = phase or "Pending"
    if phase in TERMINAL:
        return
    attempt = int(status.get("attempt") or 0)
    child = None
    if attempt and status.get("jobName"):
        resource = kube.RAYJOBS if status.get("jobKind") == "RayJob" else kube.JOBS
        child = await ctx.kube.get(resource, meta["namespace"], status["jobName"])
    if child is not None:
        new = await _follow(ctx, body, child)
        if new is None:  # retrying: the next attempt once its time has come
            if not _due(status["retryAfter"]):
                return
            await ctx.kube.delete(resource, meta["namespace"], status["jobName"])
            new = await _place(ctx, body, attempt + 1)
        elif new["phase"] == status.get("phase") and new["reason"] == status.get("reason"):
            return
    else:
        # Not created yet, or its child vanished: (re)create this attempt.
        new = await _place(ctx, body, max(attempt, 1))
        if (
            new["phase"] == "Pending"
            and status.get("phase") == "Pending"
            and status.get("reason") == new["reason"]
            and status.get("message") == new["message"]
        ):
            return
    await write_status(ctx, body, new)


async def cleanup(ctx: Context, body: Mapping[str, Any]) -> None:
    """On deletion: remove the Job/RayJob (owner references do it too in a real cluster)."""
    meta, status = body["metadata"], body.get("status") or {}
    ctx.metrics.job_phases.pop(key(meta["namespace"], meta["name"]), None)
    if status.get("jobName"):
        resource = kube.RAYJOBS if status.get("jobKind") == "RayJob" else kube.JOBS
        await ctx.kube.delete(resource, meta["namespace"], status["jobName"])
        ctx.cluster.reservations.pop(key(meta["namespace"], status["jobName"]), None)


def register(registry: kopf.OperatorRegistry, config: OperatorConfig) -> None:
    resource = ("llmops.io", "v1alpha1", "finetunejobs")

    @kopf.on.resume(*resource, registry=registry)
    @kopf.on.create(*resource, registry=registry)
    async def finetune_created(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        await reconcile(memo.ctx, body)

    @kopf.timer(
        *resource,
        registry=registry,
        interval=config.timing.pending_retry_seconds,
        initial_delay=config.timing.pending_retry_seconds,
        when=lambda status, **_: status.get("phase") not in TERMINAL,
    )
    async def finetune_recheck(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        await reconcile(memo.ctx, body)

    @kopf.on.delete(*resource, registry=registry)
    async def finetune_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        await cleanup(memo.ctx, body)

    @kopf.on.event(*resource, registry=registry)
    async def finetune_seen(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
        meta = body["metadata"]
        k = key(meta["namespace"], meta["name"])
        if type == "DELETED":
            memo.ctx.metrics.job_phases.pop(k, None)
        else:
            memo.ctx.metrics.job_phases[k] = (body.get("status") or {}).get("phase") or "Pending"

    for group, version, plural in (("batch", "v1", "jobs"), ("ray.io", "v1", "rayjobs")):

        @kopf.on.event(
            group, version, plural, registry=registry,
            labels={labels.MANAGED_BY: labels.MANAGER, labels.OWNER_KIND: render.KIND},
        )  # fmt: skip
        async def child_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
            meta = body["metadata"]
            owner = (meta.get("labels") or {}).get(labels.OWNER_NAME)
            if owner and not meta.get("deletionTimestamp"):
                await reconcile(
                    memo.ctx, {"metadata": {"namespace": meta["namespace"], "name": owner}}
                )
