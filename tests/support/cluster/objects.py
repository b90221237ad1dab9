"""The test cluster as the tests drive it: the official Kubernetes client, server-side
apply for every object, and waiting for a condition with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import config as kube_config
from kubernetes import dynamic
from kubernetes.client import ApiClient
from kubernetes.dynamic.exceptions import NotFoundError

T = TypeVar("T")
FIELD_MANAGER = "llmops-tests"


class Objects:
    """Any object of the cluster by apiVersion and kind (discovery refreshed on demand)."""

    def __init__(self, kubeconfig: Path, workdir: Path) -> None:
        # The client's functions are untyped; what they return is typed below.
        self.api: ApiClient = kube_config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
        # Discovery is cached in the cluster's folder (by default a file in /tmp named by
        # host and port, which a later cluster on the same port would read).
        cache = workdir / f"discovery-{id(self)}.json"
        self.dynamic = dynamic.DynamicClient(self.api, cache_file=str(cache))  # type: ignore[no-untyped-call]

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]

    def resource(self, api_version: str, kind: str) -> Any:
        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except dynamic.exceptions.ResourceNotFoundError:
            # A CRD installed since the last discovery.
            self.dynamic.resources.invalidate_cache()
            return self.dynamic.resources.get(api_version=api_version, kind=kind)

    def apply(self, body: Mapping[str, Any], *, namespace: str | None = None) -> dict[str, Any]:
        """Server-side apply of ``body`` (created, or updated to it)."""
        resource = self.resource(body["apiVersion"], body["kind"])
        namespace = body.get("metadata", {}).get("namespace") or namespace
        applied = resource.server_side_apply(
            body=dict(body),
            name=body["metadata"]["name"],
            namespace=namespace if resource.namespaced else None,
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        )
        return dict(applied.to_dict())

    def apply_files(self, paths: Iterable[Path]) -> None:
        """Every object of these YAML files; CRDs among them are waited for until served."""
        crds = []
        for path in paths:
            for doc in yaml.safe_load_all(path.read_text()):
                if doc:
                    self.apply(doc)
                    if doc["kind"] == "CustomResourceDefinition":
                        crds.append(doc["metadata"]["name"])
        for name in crds:
            eventually(partial(self._established, name), timeout=60, what=f"CRD {name} established")

    def _established(self, name: str) -> bool:
        crd = self.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name) or {}
        return condition_true(crd, "Established")

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        resource = self.resource(api_version, kind)
        try:
            found = resource.get(name=name, namespace=namespace if resource.namespaced else None)
        except NotFoundError:
            return None
        return dict(found.to_dict())

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        selector: str | None = None,
    ) -> list[dict[str, Any]]:
        resource = self.resource(api_version, kind)
        found = resource.get(namespace=namespace, label_selector=selector)
        return [dict(item.to_dict()) for item in found.items]

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> None:
        resource = self.resource(api_version, kind)
        try:
            resource.delete(name=name, namespace=namespace, propagation_policy="Background")
        except NotFoundError:
            return

    def patch_status(
        self, api_version: str, kind: str, name: str, namespace: str, status: Mapping[str, Any]
    ) -> None:
        """Write an object's status as its controller (or a pod's kubelet) would."""
        resource = self.resource(api_version, kind)
        resource.status.patch(
            body={"status": dict(status)},
            name=name,
            namespace=namespace,
            content_type="application/merge-patch+json",
        )


def condition_true(obj: Mapping[str, Any], kind: str) -> bool:
    """Whether the object's status holds the condition ``kind`` with status True."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c["type"] == kind and c["status"] == "True" for c in conditions)


def eventually(
    check: Callable[[], T | None], *, timeout: float = 90.0, what: str = "", interval: float = 0.2
) -> T:
    """``check()``'s first truthy value, polling until ``timeout`` (then fail with its last)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except AssertionError as e:
            last = e
        else:
            if last:
                found: T = last
                return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not reached in {timeout}s; last: {last!r}")
        time.sleep(interval)
