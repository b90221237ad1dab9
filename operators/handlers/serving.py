"""ModelDeployment: resolve the alias, render the RayService, publish the routes.

A new version (the alias moved) is added to the RayService beside the one served; the
routes switch to it once KubeRay reports its Serve application running, and the old
application is then dropped: traffic never points at a version that is not up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from operators import conditions, errors, kube, labels
from operators.config import NodePool, OperatorConfig
from operators.context import Context
from operators.render import rayservice, routes


def _pool(config: OperatorConfig, spec: Mapping[str, Any]) -> NodePool | None:
    if spec.get("engine", "vllm") == "cpu":
        return None
    if spec.get("nodePool"):
        pool = config.pool(spec["nodePool"])
        if pool is None:
            raise kopf.PermanentError(f"no node pool named {spec['nodePool']!r}")
        return pool
    matching = [p for p in config.node_pools if spec.get("gpuType") in (None, p.gpu_type)]
    if not matching:
        raise kopf.PermanentError(f"no node pool offers GPU type {spec.get('gpuType')!r}")
    return max(matching, key=lambda p: (p.priority, p.name))


def running_apps(service: Mapping[str, Any] | None) -> set[str]:
    """Serve applications KubeRay reports RUNNING on the RayService's active cluster."""
    status = (service or {}).get("status") or {}
    apps = (status.get("activeServiceStatus") or {}).get("applicationStatuses") or {}
    return {name for name, app in apps.items() if (app or {}).get("status") == "RUNNING"}


async def _resolve(ctx: Context, spec: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """The stable version, the canary's and the shadow's (``None``: none, or its alias
    points nowhere yet: everything goes to the stable version)."""
    target = (
        str(spec["version"])
        if spec.get("version")
        else await ctx.resolver.resolve(spec["model"], spec.get("alias", "champion"))
    )
    canary = await _optional(ctx, spec, "canary", int((spec.get("canary") or {}).get("weight", 0)))
    shadow = await _optional(ctx, spec, "shadow", float((spec.get("shadow") or {}).get("share", 0)))
    return target, canary, shadow


async def _optional(ctx: Context, spec: Mapping[str, Any], field: str, share: float) -> str | None:
    if share <= 0:
        return None
    try:
        return await ctx.resolver.resolve(spec["model"], spec[field].get("alias", "challenger"))
    except errors.ResolveError:
        return None


async def reconcile(ctx: Context, body: Mapping[str, Any]) -> None:
    meta = body["metadata"]
    async with ctx.object_locks[f"md/{meta['namespace']}/{meta['name']}"]:
        fresh = await ctx.kube.get(kube.MODELDEPLOYMENTS, meta["namespace"], meta["name"])
        if fresh is None or fresh["metadata"].get("deletionTimestamp"):
            return
        await _reconcile(ctx, fresh)
    await publish_routes(ctx)


async def _reconcile(ctx: Context, body: dict[str, Any]) -> None:
    meta, spec, status = body["metadata"], body["spec"], body.get("status") or {}
    try:
        target, canary, shadow = await _resolve(ctx, spec)
    except errors.ResolveError as e:
        await _write(
            ctx,
            body,
            {
                "phase": "Failed"
                if not status.get("servedVersion")
                else status.get("phase", "Ready")
            },
            "AliasUnresolved",
            str(e),
        )
        raise kopf.TemporaryError(str(e), delay=ctx.config.timing.alias_poll_seconds) from e
    pool = _pool(ctx.config, spec)
    name = rayservice.service_name(meta["name"])
    existing = await ctx.kube.get(kube.RAYSERVICES, meta["namespace"], name)
    up = running_apps(existing)

    def app(version: str) -> str:
        return str(rayservice.application(spec, rayservice.ServedVersion(version, ""))["name"])

    served = target if app(target) in up else status.get("servedVersion")
    wanted = [v for v in dict.fromkeys([served, target, canary, shadow]) if v]
    manifest = rayservice.render(
        body, ctx.config, [rayservice.ServedVersion(v, "stable") for v in wanted], pool
    )
    if existing is None:
        await ctx.kube.ensure(manifest)
    elif (
        existing.get("spec") != manifest["spec"]
        or (existing["metadata"].get("labels") or {}) != manifest["metadata"]["labels"]
    ):
        await ctx.kube.patch(
            kube.RAYSERVICES,
            meta["namespace"],
            name,
            {"metadata": {"labels": manifest["metadata"]["labels"]}, "spec": manifest["spec"]},
        )
    canary_up = canary if canary and app(canary) in up else None
    shadow_up = shadow if shadow and app(shadow) in up else None
    ready = served == target and (canary is None or canary_up is not None)
    fields = {
        "phase": "Ready" if ready else "Deploying",
        "servedVersion": served,
        "targetVersion": target,
        "canaryVersion": canary_up,
        "shadowVersion": shadow_up,
        "nodePool": pool.name if pool else None,
        "rayService": name,
        "endpoint": rayservice.endpoint(
            meta["name"], meta["namespace"], ctx.config.routes.serve_port
        ),
    }
    reason = "Serving" if ready else ("RollingOut" if served else "Deploying")
    message = f"serving version {served}" if served else f"waiting for version {target} to start"
    if target != served and served:
        message += f"; rolling out version {target}"
    ctx.metrics.served[f"{meta['namespace']}/{meta['name']}"] = _info(spec, served, canary_up)
    await _write(ctx, body, fields, reason, message)


def _info(
    spec: Mapping[str, Any], served: str | None, canary: str | None
) -> list[tuple[str, str, str]]:
    rows = []
    if served:
        rows.append(
            (
                spec["model"],
                spec.get("alias", "champion") if not spec.get("version") else "pinned",
                served,
            )
        )
    if canary:
        rows.append((spec["model"], spec["canary"].get("alias", "challenger"), canary))
    return rows


async def _write(
    ctx: Context, body: Mapping[str, Any], fields: dict[str, Any], reason: str, message: str
) -> None:
    meta, status = body["metadata"], body.get("status") or {}
    new = {**fields, "observedGeneration": meta.get("generation")}
    new["conditions"] = conditions.merge(
        status.get("conditions"),
        conditions.for_phase(str(fields.get("phase")), reason, message),
        generation=meta.get("generation"),
    )
    unchanged = all(status.get(k) == v for k, v in new.items() if k != "conditions") and [
        (c["type"], c["status"], c.get("reason"), c.get("message"))
        for c in status.get("conditions") or []
    ] == [(c["type"], c["status"], c.get("reason"), c.get("message")) for c in new["conditions"]]
    if not unchanged:
        await ctx.kube.patch(
            kube.MODELDEPLOYMENTS, meta["namespace"], meta["name"], {"status": new}, sub="status"
        )


async def publish_routes(ctx: Context) -> None:
    """Write the routes of every served ModelDeployment to the routes ConfigMap."""
    async with ctx.routes_lock:
        items = await ctx.kube.list(kube.MODELDEPLOYMENTS, ctx.config.namespace)
        models = []
        for md in items:
            status, spec = md.get("status") or {}, md.get("spec") or {}
            if md["metadata"].get("deletionTimestamp") or not status.get("servedVersion"):
                continue
            weight = int((spec.get("canary") or {}).get("weight", 0))
            models.append(
                routes.model_route(
                    rayservice.served_name(spec),
                    status["endpoint"],
                    status["servedVersion"],
                    status.get("canaryVersion"),
                    weight,
                    price=spec.get("price"),
                    shadow=status.get("shadowVersion"),
                    shadow_spec=spec.get("shadow"),
                )
            )
        text = routes.document(models)
        cfg = ctx.config
        manifest = routes.config_map(cfg.routes.config_map, cfg.routes_namespace, text)
        current, created = await ctx.kube.ensure(manifest)
        if not created and (current.get("data") or {}).get(routes.KEY) != text:
            await ctx.kube.patch(
                kube.CONFIGMAPS,
                cfg.routes_namespace,
                cfg.routes.config_map,
                {"data": {routes.KEY: text}},
            )


async def removed(ctx: Context, body: Mapping[str, Any]) -> None:
    meta = body["metadata"]
    ctx.metrics.served.pop(f"{meta['namespace']}/{meta['name']}", None)
    await ctx.kube.delete(
        kube.RAYSERVICES, meta["namespace"], rayservice.service_name(meta["name"])
    )
    # The object still exists (our finalizer holds it): publish without it.
    await ctx.kube.patch(
        kube.MODELDEPLOYMENTS,
        meta["namespace"],
        meta["name"],
        {"status": {"servedVersion": None}},
        sub="status",
    )
    await publish_routes(ctx)


def register(registry: kopf.OperatorRegistry, config: OperatorConfig) -> None:
    resource = ("llmops.io", "v1alpha1", "modeldeployments")

    @kopf.on.resume(*resource, registry=registry)
    @kopf.on.create(*resource, registry=registry)
    @kopf.on.update(*resource, registry=registry, field="spec")
    async def deployment_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        await reconcile(memo.ctx, body)

    @kopf.timer(
        *resource,
        registry=registry,
        interval=config.timing.alias_poll_seconds,
        initial_delay=config.timing.alias_poll_seconds,
    )
    async def deployment_alias_check(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        await reconcile(memo.ctx, body)

    @kopf.on.event(
        "ray.io",
        "v1",
        "rayservices",
        registry=registry,
        labels={labels.MANAGED_BY: labels.MANAGER, labels.OWNER_KIND: rayservice.KIND},
    )
    async def rayservice_changed(
        body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any
    ) -> None:
        meta = body["metadata"]
        owner = (meta.get("labels") or {}).get(labels.OWNER_NAME)
        if owner and type != "DELETED":
            await reconcile(memo.ctx, {"metadata": {"namespace": meta["namespace"], "name": owner}})

    @kopf.on.delete(*resource, registry=registry)
    async def deployment_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        await removed(memo.ctx, body)
