"""A small async Kubernetes API client over aiohttp: create, get, list, merge-patch,
delete, each translated to :mod:`operators.errors` in one place."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from operators import errors


@dataclass(frozen=True, slots=True)
class Resource:
    group: str
    version: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None = None, name: str | None = None, sub: str = "") -> str:
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        if self.namespaced and namespace is not None:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base


JOBS = Resource("batch", "v1", "jobs")
CRONJOBS = Resource("batch", "v1", "cronjobs")
PODS = Resource("", "v1", "pods")
NODES = Resource("", "v1", "nodes", namespaced=False)
CONFIGMAPS = Resource("", "v1", "configmaps")
RAYSERVICES = Resource("ray.io", "v1", "rayservices")
RAYJOBS = Resource("ray.io", "v1", "rayjobs")
MODELDEPLOYMENTS = Resource("llmops.io", "v1alpha1", "modeldeployments")
FINETUNEJOBS = Resource("llmops.io", "v1alpha1", "finetunejobs")
DRIFTMONITORS = Resource("llmops.io", "v1alpha1", "driftmonitors")

BY_KIND = {
    "Job": JOBS,
    "CronJob": CRONJOBS,
    "ConfigMap": CONFIGMAPS,
    "RayService": RAYSERVICES,
    "RayJob": RAYJOBS,
    "FineTuneJob": FINETUNEJOBS,
}


@dataclass(frozen=True, slots=True)
class Connection:
    server: str
    token: str | None = None
    ca_path: str | None = None
    insecure: bool = False


class Kube:
    """One session to the API server, opened at operator start-up and closed at the end."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        headers = {"accept": "application/json"}
        if self._connection.token:
            headers["authorization"] = f"Bearer {self._connection.token}"
        context: ssl.SSLContext | bool = True
        if self._connection.insecure:
            context = False
        elif self._connection.ca_path:
            context = ssl.create_default_context(cafile=self._connection.ca_path)
        self._session = aiohttp.ClientSession(
            base_url=self._connection.server.rstrip("/") + "/",
            headers=headers,
            connector=aiohttp.TCPConnector(ssl=context, limit=32),
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        assert self._session is not None, "Kube.open() first"
        data = orjson.dumps(body) if body is not None else None
        async with self._session.request(
            method,
            path.lstrip("/"),
            data=data,
            params=params,
            headers={"content-type": content_type} if data is not None else None,
        ) as response:
            raw = await response.read()
            if response.status >= 400:
                try:
                    status: dict[str, Any] = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    status = {"message": raw.decode(errors="replace")[:500]}
                raise errors.api_error(
                    response.status, str(status.get("reason", "")), str(status.get("message", ""))
                )
            return orjson.loads(raw) if raw else None

    async def get(
        self, resource: Resource, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self._call("GET", resource.path(namespace, name))
        except errors.NotFound:
            return None
        return found

    async def list(
        self, resource: Resource, namespace: str | None = None, *, selector: str | None = None
    ) -> list[dict[str, Any]]:
        params = {"labelSelector": selector} if selector else None
        result = await self._call("GET", resource.path(namespace), params=params)
        return list((result or {}).get("items") or [])

    async def create(self, resource: Resource, body: Mapping[str, Any]) -> dict[str, Any]:
        namespace = body["metadata"].get("namespace")
        created: dict[str, Any] = await self._call("POST", resource.path(namespace), body=body)
        return created

    async def patch(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        patch: Mapping[str, Any],
        *,
        sub: str = "",
    ) -> dict[str, Any]:
        patched: dict[str, Any] = await self._call(
            "PATCH",
            resource.path(namespace, name, sub),
            body=patch,
            content_type="application/merge-patch+json",
        )
        return patched

    async def delete(self, resource: Resource, namespace: str | None, name: str) -> None:
        try:
            await self._call(
                "DELETE", resource.path(namespace, name), body={"propagationPolicy": "Background"}
            )
        except errors.NotFound:
            return

    async def ensure(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """``body`` created, or the existing object of that name: (object, created)."""
        resource = BY_KIND[body["kind"]]
        try:
            return await self.create(resource, body), True
        except errors.Conflict:
            meta = body["metadata"]
            existing = await self.get(resource, meta.get("namespace"), meta["name"])
            if existing is None:  # deleted in between: try once more
                return await self.create(resource, body), True
            return existing, False
