"""The Kubernetes API for operator tests and benchmarks: kmock's emulator knowing the
built-in resources, KubeRay's and our CRDs, and the operator running in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import warnings
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import kmock
import kopf
import yaml

from operators import main
from operators.config import OperatorConfig
from operators.registry import VersionResolver

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "helm" / "llmops" / "crds"
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]

# KubeRay's resources (no CRD files of theirs here: discovery needs only the names).
KUBERAY = {
    "ray.io/v1/rayservices": {"kind": "RayService", "singular": "rayservice"},
    "ray.io/v1/rayjobs": {"kind": "RayJob", "singular": "rayjob"},
    "ray.io/v1/rayclusters": {"kind": "RayCluster", "singular": "raycluster"},
}


class _OnlyCurrentRequest(kmock.KubernetesScaffold):
    """Matches a request's reactions against that request alone (kmock matches against
    its whole request log, for assertions, which makes a long run quadratic). Matching is
    synchronous, so no other request can slip in between."""

    async def _handle(self, request: Any) -> Any:
        self._requests[:] = [request]
        return await super()._handle(request)


class ForgetfulEmulator(kmock.KubernetesEmulator, _OnlyCurrentRequest):
    """kmock's emulator for benchmarks: no request log (tests assert on it), and one
    object found by its key rather than by scanning every stored object."""

    def _KubernetesEmulator__get_obj(self, request: Any, strict: bool) -> Any:
        key = (request.resource, request.namespace, request.name)
        if strict and request.name is not None and key in self._objects:
            return self._objects[key]
        return None


def crds() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(CRDS.glob("*.yaml"))]


def teach(emulator: Any) -> None:
    """Make ``emulator`` (kmock's) know the built-ins, KubeRay's resources and our CRDs."""
    with warnings.catch_warnings():
        # kmock 0.8 reads its bundled file with a deprecated importlib call.
        warnings.simplefilter("ignore", DeprecationWarning)
        emulator.resources.load_bundled()
    for key, info in KUBERAY.items():
        emulator.resources[key] = {
            "namespaced": True, "verbs": VERBS, "shortnames": [], "categories": [],
            "subresources": ["status"], **info,
        }  # fmt: skip
    for crd in crds():
        spec = crd["spec"]
        for version in spec["versions"]:
            emulator.resources[f"{spec['group']}/{version['name']}/{spec['names']['plural']}"] = {
                "namespaced": spec["scope"] == "Namespaced",
                "kind": spec["names"]["kind"],
                "singular": spec["names"]["singular"],
                "verbs": VERBS,
                "shortnames": spec["names"].get("shortNames", []),
                "categories": spec["names"].get("categories", []),
                "subresources": list(version.get("subresources", {})),
            }


def config_for(server: str, **fields: Any) -> OperatorConfig:
    base: dict[str, Any] = {
        "kubernetes": {"server": server, "insecure": True, "postEvents": False},
        "metricsPort": 0,
        "operatorNamespace": "llmops",
        "timing": {"aliasPollSeconds": 0.5, "pendingRetrySeconds": 0.5},
    }
    base.update(fields)
    return OperatorConfig.model_validate(base)


@contextlib.asynccontextmanager
async def operator_in_thread(
    config: OperatorConfig, resolver: VersionResolver | None = None
) -> AsyncIterator[kopf.Memo]:
    """The real kopf operator in its own thread and loop; stopped (and joined) on exit.
    The test's loop keeps serving the emulator meanwhile: wait with ``await``."""
    stop, ready = threading.Event(), threading.Event()
    memo = kopf.Memo()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            asyncio.run(
                main.run(config, resolver=resolver, memo=memo, stop_flag=stop, ready_flag=ready)
            )
        except BaseException as e:  # noqa: BLE001 (reported to the test below)
            failure.append(e)

    thread = threading.Thread(target=work, name="operator", daemon=True)
    thread.start()
    try:
        while not ready.is_set() and thread.is_alive():
            await asyncio.sleep(0.05)
        yield memo
    finally:
        stop.set()
        while thread.is_alive():
            await asyncio.sleep(0.05)
        thread.join()
    if failure:
        raise failure[0]


async def eventually(check: Any, timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Await until ``check()`` returns something truthy (its value), else fail."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except (KeyError, TypeError, AssertionError) as e:
            last = e
        else:
            if last:
                return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached in {timeout}s; last: {last!r}")
        await asyncio.sleep(interval)


def node(name: str, pool_labels: Mapping[str, str], gpus: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "uid": f"uid-{name}", "labels": dict(pool_labels)},
        "status": {"allocatable": {"nvidia.com/gpu": str(gpus), "cpu": "32"}},
    }
