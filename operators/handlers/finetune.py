"""FineTuneJob: place it, run it as a Job or RayJob, follow it to a phase, retry it."""

from __future__ import annotations

import datetime
import time
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
        started = time.perf_counter()
        state = ctx.cluster
        pools = capacity.pool_capacities(
            placement.eligible(config.node_pools, request),
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
        ctx.metrics.placement_seconds.observe(time.perf_counter() - started)
        if not decision.placed:
            # No child for this attempt yet: the last one's name goes (a retry deleted it).
            return _status(
                "Pending",
                decision.reason,
                decision.message,
                attempt=attempt - 1,
                jobName=None,
                jobKind=None,
                nodePool=None,
            )
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
    return _started(body, child, attempt, pool.name, queued=queue is not None)


def _started(
    body: Mapping[str, Any], child: Mapping[str, Any], attempt: int, pool: str, *, queued: bool
) -> dict[str, Any]:
    """The status of an attempt whose Job/RayJob exists (on the pool its label names,
    else ``pool``)."""
    placed_pool = (child.get("metadata", {}).get("labels") or {}).get(labels.NODE_POOL, pool)
    phase, reason = ("Queued", "WaitingForKueue") if queued else ("Running", "JobCreated")
    return _status(
        phase,
        reason,
        f"{child['kind']} {child['metadata']['name']} on node pool {placed_pool}",
        attempt=attempt,
        nodePool=placed_pool,
        jobKind=child["kind"],
        jobName=child["metadata"]["name"],
        startTime=(body.get("status") or {}).get("startTime") or conditions.now(),
        retryAfter=None,
    )


async def _existing(ctx: Context, body: Mapping[str, Any], attempt: int) -> dict[str, Any] | None:
    """The attempt's Job/RayJob when an earlier pass created it but its status write was
    lost (a crash, or a stale event): adopted, never placed twice nor counted against itself."""
    meta = body["metadata"]
    name = render.job_name(meta["name"], attempt)
    child = await ctx.kube.get(_resource(render.kind_of(body["spec"])), meta["namespace"], name)
    if child is None:
        return None
    child_meta = child.get("metadata", {})
    if (child_meta.get("labels") or {}).get(labels.OWNER_NAME) != meta["name"]:
        return None
    # A FineTuneJob deleted and made again under the same name must not adopt the old
    # one's Job (its owner reference names the old uid).
    owners = {ref.get("uid") for ref in child_meta.get("ownerReferences") or ()}
    if meta.get("uid") and owners and meta["uid"] not in owners:
        return None
    return child


async def _result(ctx: Context, namespace: str, job_name: str) -> dict[str, Any] | None:
    # The job controller labels its pods with both (``job-name`` is the one every
    # Kubernetes version sets): the selector spares listing the namespace's pods.
    for pod in await ctx.kube.list(kube.PODS, namespace, selector=f"job-name={job_name}"):
        pod_labels = pod.get("metadata", {}).get("labels") or {}
        if (
            pod_labels.get("job-name") == job_name
            or pod_labels.get("batch.kubernetes.io/job-name") == job_name
        ):
            result = phases.termination_result(pod)
            if result is not None:
                return result
    return None


def _live(
    status: Mapping[str, Any], child: Mapping[str, Any], state: phases.ChildState
) -> dict[str, Any]:
    """A child waiting for admission or running: ``{}`` when the status says so already."""
    name = f"{child['kind']} {child['metadata']['name']}"
    if state is phases.ChildState.SUSPENDED:
        return (
            {}
            if status.get("phase") == "Queued"
            else _status("Queued", "WaitingForKueue", f"{name} waits for admission")
        )
    return (
        {}
        if status.get("phase") == "Running"
        else _status("Running", "JobRunning", f"{name} is running")
    )


def _failed(spec: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any] | None:
    """After a failed attempt: the next one's time, or the end (``None``: wait on)."""
    attempt = int(status.get("attempt") or 1)
    retries = spec.get("retries") or {}
    if attempt > int(retries.get("limit", 2)):
        return _status(
            "Failed",
            "BackoffLimitExceeded",
            f"{attempt} attempt(s) failed",
            completionTime=conditions.now(),
        )
    if status.get("retryAfter"):
        return None
    wait = phases.backoff_seconds(int(retries.get("backoffSeconds", 30)), attempt)
    at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=wait)
    return _status(
        "Retrying",
        "JobFailed",
        f"attempt {attempt} failed; attempt {attempt + 1} in {wait}s",
        retryAfter=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


async def _follow(
    ctx: Context, body: Mapping[str, Any], child: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The status that the child's state implies: ``{}`` when that is written already,
    ``None`` while a retry waits for its time."""
    meta, spec, status = body["metadata"], body["spec"], body.get("status") or {}
    state = phases.child_state(child)
    if state in (phases.ChildState.SUSPENDED, phases.ChildState.RUNNING):
        return _live(status, child, state)
    child_name = child["metadata"]["name"]
    ctx.cluster.reservations.pop(key(meta["namespace"], child_name), None)
    if state is phases.ChildState.FAILED:
        return _failed(spec, status)
    result = await _result(ctx, meta["namespace"], child_name) or {}
    return _status(
        "Succeeded",
        "Registered" if result.get("version") else "Completed",
        f"registered {result.get('model', spec['outputModel'])} version {result.get('version', '?')}",
        runId=result.get("run_id"),
        registeredVersion=result.get("version"),
        completionTime=conditions.now(),
    )


def _due(retry_after: str) -> bool:
    at = datetime.datetime.strptime(retry_after, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    return datetime.datetime.now(datetime.UTC) >= at


async def reconcile(ctx: Context, body: Mapping[str, Any]) -> None:
    """Move one FineTuneJob on: level-triggered, so a repeat (or a restart) changes nothing.
    The object is read first: ``body`` may be older than our last write (kopf hands a
    creation handler the stale event of its own finalizer patch after a status write)."""
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
        child = await ctx.kube.get(
            _resource(status.get("jobKind")), meta["namespace"], status["jobName"]
        )
    number = _number(status, attempt, child_gone=child is None)
    if number is None:
        return
    if child is None and (child := await _existing(ctx, body, number)) is not None:
        # Created by an earlier pass whose status write was lost: adopt it.
        suspended = phases.child_state(child) is phases.ChildState.SUSPENDED
        adopted = _started(body, child, number, "", queued=suspended)
        await write_status(ctx, body, adopted)
        body = {**body, "status": status | adopted}
        status, attempt = body["status"], number
    if child is not None:
        new = await _follow(ctx, body, child)
        if new is None:  # retrying: the next attempt once its time has come
            if not _due(status["retryAfter"]):
                return
            await ctx.kube.delete(_resource(child["kind"]), meta["namespace"], status["jobName"])
            new = await _place(ctx, body, attempt + 1)
        elif not new:
            return
    else:
        # Not created yet, or its child vanished: (re)create this attempt.
        new = await _place(ctx, body, number)
        if (
            new["phase"] == "Pending"
            and status.get("phase") == "Pending"
            and status.get("reason") == new["reason"]
            and status.get("message") == new["message"]
        ):
            return
    await write_status(ctx, body, new)


def _number(status: Mapping[str, Any], attempt: int, *, child_gone: bool) -> int | None:
    """The attempt this pass works on (``None``: a retry waiting for its time). Pending
    counts the attempts made so far; otherwise the status names an attempt."""
    phase = status.get("phase")
    if phase in (None, "Pending"):
        return attempt + 1
    if phase == "Retrying" and child_gone:
        # The failed attempt's Job is gone (deleted for the retry, whose status write
        # was lost, or removed by its TTL): the retry is what comes next, at its time.
        if status.get("retryAfter") and not _due(status["retryAfter"]):
            return None
        return attempt + 1
    return max(attempt, 1)


def _resource(kind: str | None) -> kube.Resource:
    return kube.RAYJOBS if kind == "RayJob" else kube.JOBS


async def cleanup(ctx: Context, body: Mapping[str, Any]) -> None:
    """On deletion: remove the Job/RayJob (owner references do it too in a real cluster)."""
    meta, status = body["metadata"], body.get("status") or {}
    ctx.metrics.job_phases.pop(key(meta["namespace"], meta["name"]), None)
    if status.get("jobName"):
        await ctx.kube.delete(
            _resource(status.get("jobKind")), meta["namespace"], status["jobName"]
        )
        ctx.cluster.reservations.pop(key(meta["namespace"], status["jobName"]), None)


def _news(child: Mapping[str, Any]) -> bool:
    """Whether a child's event can move its FineTuneJob: it finished, or it started
    running (Kueue admitted it). A freshly created child's own event cannot."""
    state = phases.child_state(child)
    if state in (phases.ChildState.SUCCEEDED, phases.ChildState.FAILED):
        return True
    status = child.get("status") or {}
    return state is phases.ChildState.RUNNING and bool(
        status.get("active") or status.get("startTime") or status.get("jobDeploymentStatus")
    )


def register(registry: kopf.OperatorRegistry, config: OperatorConfig) -> None:
    resource = ("llmops.io", "v1alpha1", "finetunejobs")

    @kopf.on.create(*resource, registry=registry)
    async def finetune_created(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        await reconcile(memo.ctx, body)

    @kopf.on.resume(*resource, registry=registry)
    async def finetune_resumed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        # kopf also mixes resuming into a new object's first events: read it afresh.
        await reconcile(memo.ctx, body)

    @kopf.timer(
        *resource,
        registry=registry,
        interval=config.timing.pending_retry_seconds,
        initial_delay=config.timing.pending_retry_seconds,
        # Only what waits on time: placement (Pending) and the next attempt (Retrying).
        when=lambda status, **_: status.get("phase") in ("Pending", "Retrying"),
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

    _register_children(registry)


def _register_children(registry: kopf.OperatorRegistry) -> None:
    """A Job's or RayJob's news moves its FineTuneJob at once (no wait for a timer)."""
    for group, version, plural in (("batch", "v1", "jobs"), ("ray.io", "v1", "rayjobs")):

        @kopf.on.event(
            group, version, plural, registry=registry,
            labels={labels.MANAGED_BY: labels.MANAGER, labels.OWNER_KIND: render.KIND},
        )  # fmt: skip
        async def child_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
            if not _news(body):
                return
            meta = body["metadata"]
            owner = (meta.get("labels") or {}).get(labels.OWNER_NAME)
            if owner and not meta.get("deletionTimestamp"):
                await reconcile(
                    memo.ctx, {"metadata": {"namespace": meta["namespace"], "name": owner}}
                )
