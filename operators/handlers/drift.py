"""DriftMonitor: a CronJob of drift checks; a check past the policy starts a FineTuneJob."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import kopf

from operators import conditions, driftpolicy, kube, labels, phases
from operators.context import Context
from operators.metrics import DriftFigures
from operators.render import cronjob


async def ensure_cronjob(ctx: Context, body: Mapping[str, Any]) -> None:
    meta = body["metadata"]
    manifest = cronjob.render(body, ctx.config)
    existing, created = await ctx.kube.ensure(manifest)
    if not created and existing.get("spec") != manifest["spec"]:
        await ctx.kube.patch(
            kube.CRONJOBS,
            meta["namespace"],
            manifest["metadata"]["name"],
            {"spec": manifest["spec"]},
        )
    status = body.get("status") or {}
    if status.get("cronJob") != manifest["metadata"]["name"] or not status.get("conditions"):
        new = {
            "cronJob": manifest["metadata"]["name"],
            "observedGeneration": meta.get("generation"),
            "conditions": conditions.merge(
                status.get("conditions"),
                conditions.for_phase(
                    "Ready", "Scheduled", f"checks run on {manifest['spec']['schedule']}"
                ),
            ),
        }
        await ctx.kube.patch(
            kube.DRIFTMONITORS, meta["namespace"], meta["name"], {"status": new}, sub="status"
        )


def _parse_time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)


async def check_finished(ctx: Context, monitor: Mapping[str, Any], job: Mapping[str, Any]) -> None:
    """Record a finished check's result once, and start a retrain when the policy says so."""
    meta, spec, status = monitor["metadata"], monitor["spec"], monitor.get("status") or {}
    job_name = job["metadata"]["name"]
    if status.get("lastCheckJob") == job_name:
        return  # seen already (a repeated event, or a restart)
    raw = None
    for pod in await ctx.kube.list(kube.PODS, meta["namespace"], selector=f"job-name={job_name}"):
        if (pod["metadata"].get("labels") or {}).get("job-name") == job_name:
            raw = phases.termination_result(pod) or raw
    now = datetime.datetime.now(datetime.UTC)
    new: dict[str, Any] = {"lastCheckJob": job_name, "lastCheckTime": conditions.now()}
    if raw is None:
        new["conditions"] = conditions.merge(
            status.get("conditions"),
            [
                conditions.condition(
                    "Degraded", True, "CheckFailed", f"check {job_name} left no result"
                )
            ],
        )
        await ctx.kube.patch(
            kube.DRIFTMONITORS, meta["namespace"], meta["name"], {"status": new}, sub="status"
        )
        return
    thresholds = spec.get("thresholds") or {}
    result = driftpolicy.read_result(
        raw,
        share_threshold=float(thresholds.get("driftShare", 0.2)),
        min_samples=int(spec.get("minSamples", 200)),
    )
    previous = status.get("lastResult") or {}
    decision = driftpolicy.decide(
        result,
        now=now,
        current_episode=previous.get("episode") if previous.get("drifted") else None,
        last_episode_retrained=status.get("lastEpisode"),
        last_retrain=_parse_time(status.get("lastRetrainTime")),
        cooldown_seconds=driftpolicy.seconds(spec.get("cooldown", "24h")),
    )
    new["lastResult"] = {
        "drifted": result.drifted,
        "operationalDrift": bool(raw.get("operational_drift", False)),
        "driftShare": result.share,
        "samples": result.samples,
        "episode": decision.episode,
        "decision": decision.reason,
        "featureScores": dict(result.features),
    }
    remember_figures(ctx, monitor, new["lastResult"])
    updates = [
        conditions.condition(
            "Degraded", result.drifted, decision.reason, f"drift share {result.share}"
        )
    ]
    if decision.retrain and decision.episode is not None:
        manifest = cronjob.finetune_job(monitor, decision.episode, list(result.retrain_data))
        await ctx.kube.ensure(manifest)
        new.update(
            lastFineTuneJob=manifest["metadata"]["name"],
            lastRetrainTime=conditions.now(),
            lastEpisode=decision.episode,
        )
        updates.append(
            conditions.condition(
                "Progressing", True, "RetrainStarted", f"FineTuneJob {manifest['metadata']['name']}"
            )
        )
    if spec.get("feedback"):
        updates.extend(
            await _feedback(
                ctx, monitor, raw, new, check_job=job_name, drift_retrain=decision.retrain
            )
        )
    new["conditions"] = conditions.merge(status.get("conditions"), updates)
    await ctx.kube.patch(
        kube.DRIFTMONITORS, meta["namespace"], meta["name"], {"status": new}, sub="status"
    )
    if "feedbackSince" in new:
        # A feedback retrain succeeded: the next checks count the feedback given since.
        await ensure_cronjob(ctx, {**monitor, "status": {**status, **new}})


_DONE = ("Succeeded", "Failed")


async def _phase(ctx: Context, namespace: str, name: str | None) -> str | None:
    """A FineTuneJob's phase (``None`` when there is none, or it is gone)."""
    if not name:
        return None
    job = await ctx.kube.get(kube.FINETUNEJOBS, namespace, name)
    return None if job is None else str((job.get("status") or {}).get("phase") or "Pending")


async def _feedback(
    ctx: Context,
    monitor: Mapping[str, Any],
    raw: Mapping[str, Any],
    new: dict[str, Any],
    *,
    check_job: str,
    drift_retrain: bool,
) -> list[dict[str, Any]]:
    """The feedback loop's step for one finished check: the cut-off moves only when a
    feedback retrain succeeded (a failed one leaves its feedback to the next), and a new
    retrain starts only when none of the monitor's is running."""
    meta, spec, status = monitor["metadata"], monitor["spec"], monitor.get("status") or {}
    feedback = spec["feedback"]
    namespace = meta["namespace"]
    since = status.get("feedbackSince")
    last = await _phase(ctx, namespace, status.get("lastFeedbackJob"))
    if last == "Succeeded" and status.get("lastFeedbackRetrainTime") != since:
        since = new["feedbackSince"] = status.get("lastFeedbackRetrainTime")
    drift_job = await _phase(ctx, namespace, status.get("lastFineTuneJob"))
    running = any(p is not None and p not in _DONE for p in (last, drift_job))
    given = driftpolicy.feedback_new(raw)
    decision = driftpolicy.decide_feedback(
        given,
        now=datetime.datetime.now(datetime.UTC),
        min_new=int(feedback.get("minNew", 50)),
        last_retrain=_parse_time(status.get("lastFeedbackRetrainTime")),
        cooldown_seconds=driftpolicy.seconds(feedback.get("cooldown", "24h")),
        drift_retrain=drift_retrain,
        running=running,
    )
    new["lastResult"].update(feedbackNew=given, feedbackDecision=decision.reason)
    if not decision.retrain:
        return []
    manifest = cronjob.feedback_job(monitor, check_job, since)
    await ctx.kube.ensure(manifest)
    name = manifest["metadata"]["name"]
    new.update(lastFeedbackJob=name, lastFeedbackRetrainTime=conditions.now())
    return [
        conditions.condition(
            "Progressing",
            True,
            "FeedbackRetrainStarted",
            f"{given} feedback items: FineTuneJob {name}",
        )
    ]


def remember_figures(
    ctx: Context, monitor: Mapping[str, Any], last: Mapping[str, Any] | None
) -> None:
    """Export a check's figures (also those a restarted operator finds in the status)."""
    if not last:
        return
    meta = monitor["metadata"]
    share = last.get("driftShare")
    scores = last.get("featureScores") or {}
    ctx.metrics.drift[f"{meta['namespace']}/{meta['name']}"] = DriftFigures(
        deployment=str(monitor["spec"]["deployment"]),
        share=float(share) if isinstance(share, int | float) else None,
        detected=bool(last.get("drifted")),
        operational=bool(last.get("operationalDrift")),
        features=tuple((str(k), float(v)) for k, v in scores.items() if isinstance(v, int | float)),
    )


def register(registry: kopf.OperatorRegistry) -> None:
    resource = ("llmops.io", "v1alpha1", "driftmonitors")

    @kopf.on.resume(*resource, registry=registry)
    @kopf.on.create(*resource, registry=registry)
    @kopf.on.update(*resource, registry=registry, field="spec")
    async def monitor_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        ctx: Context = memo.ctx
        meta = body["metadata"]
        remember_figures(ctx, body, (body.get("status") or {}).get("lastResult"))
        async with ctx.object_locks[f"dm/{meta['namespace']}/{meta['name']}"]:
            # Rendered from the newest status (a check may have moved the feedback cut-off).
            fresh = await ctx.kube.get(kube.DRIFTMONITORS, meta["namespace"], meta["name"])
            await ensure_cronjob(ctx, fresh or body)

    @kopf.on.delete(*resource, registry=registry)
    async def monitor_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        meta = body["metadata"]
        memo.ctx.metrics.drift.pop(f"{meta['namespace']}/{meta['name']}", None)
        await memo.ctx.kube.delete(
            kube.CRONJOBS, meta["namespace"], cronjob.cronjob_name(meta["name"])
        )

    @kopf.on.event(
        "batch",
        "v1",
        "jobs",
        registry=registry,
        labels={labels.MANAGED_BY: labels.MANAGER, labels.OWNER_KIND: cronjob.KIND},
    )
    async def check_job_seen(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
        if type == "DELETED" or phases.child_state(body) not in (
            phases.ChildState.SUCCEEDED,
            phases.ChildState.FAILED,
        ):
            return
        ctx: Context = memo.ctx
        meta = body["metadata"]
        owner = (meta.get("labels") or {}).get(labels.OWNER_NAME)
        if not owner:
            return
        async with ctx.object_locks[f"dm/{meta['namespace']}/{owner}"]:
            monitor = await ctx.kube.get(kube.DRIFTMONITORS, meta["namespace"], owner)
            if monitor is not None and not monitor["metadata"].get("deletionTimestamp"):
                await check_finished(ctx, monitor, body)
