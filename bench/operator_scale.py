"""How fast the operator places a burst of FineTuneJobs: 1,000 jobs over 20 GPU node pools,
against kmock's emulator and against a real control plane, side by side.

- emulator: kmock's Kubernetes emulator in a process of its own, as an API server is
  (real HTTP, the built-in resources, KubeRay's and our CRDs); it stores objects and
  nothing else happens to them.
- cluster: the test cluster (``make cluster-assets``): etcd, kube-apiserver, the
  controller manager and the scheduler built from Kubernetes' modules, kwok's fake
  nodes. Each Job gets its pod from the job controller, the scheduler binds it to a node
  of the pool, kwok runs it (named ``hold-*``, it keeps its GPU until the end).

Both hold 20 node pools of 7 nodes with 8 GPUs each (1,120 GPUs); the real kopf operator
runs in a thread. Once it is ready, 1,000 FineTuneJobs asking for 1 GPU of a pool's type
(round-robin over the 20 types) are created as fast as the server takes them. The
script reports the time until every Job exists, each job's time from creation to its
Job (as a watch of Jobs sees it), the placement decision itself (the operator's
llmops_operator_placement_seconds histogram) and, on the cluster, the time until every
Job's pod is bound to a node. Nothing is asserted; the target is printed beside them.

    python bench/operator_scale.py [--jobs 1000] [--pools 20] [--nodes 7] [--against both]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `tests`

from tests.support import kube  # the emulator's resources and the operator thread
from tests.support.cluster import assets, controlplane, nodes
from tests.support.cluster.objects import Objects
from tests.support.services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60.0


EMULATOR = """
import asyncio, sys
import kmock
from tests.support import kube

async def main():
    async with kube.ForgetfulEmulator() as emulator, kmock.Server(emulator, port=int(sys.argv[1])):
        kube.teach(emulator)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


@dataclass
class Backend:
    """An API server to measure against, and how to reach it and fill it."""

    name: str
    url: str
    node: Callable[[int, int], dict[str, Any]]
    kubernetes: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    ssl: ssl.SSLContext | bool = False
    emulated: bool = True
    """kmock's emulator: objects need a uid and resourceVersion from us, and nothing
    schedules their pods. A real API server refuses a resourceVersion on creation."""


@contextlib.contextmanager
def emulator_process() -> Iterator[Backend]:
    """kmock's emulator in a process of its own (as an API server is)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, str(port)],
        stdin=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        wait_for_port(port, timeout=30)
        url = f"http://127.0.0.1:{port}"
        yield Backend(
            name="emulator",
            url=url,
            node=lambda p, n: kube.node(f"n-{p:02d}-{n}", {"pool": f"pool-{p:02d}"}, 8),
            kubernetes={"server": url, "insecure": True, "postEvents": False},
        )
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def real_cluster() -> Iterator[Backend]:
    """The test cluster, with our CRDs, KubeRay's and Kueue's, and the namespace ``ml``."""
    found = assets.ensure(build=False)
    with controlplane.running(found) as cluster:
        admin = Objects(cluster.kubeconfig, cluster.workdir)
        try:
            admin.apply_files([*found.crds, *sorted(kube.CRDS.glob("*.yaml"))])
            admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}})
        finally:
            admin.close()
        # The operator logs in with the kubeconfig, as it does outside a cluster.
        before = os.environ.get("KUBECONFIG")
        os.environ["KUBECONFIG"] = str(cluster.kubeconfig)
        try:
            yield Backend(
                name="cluster",
                url=cluster.server,
                node=lambda p, n: nodes.fake_node(f"n-{p:02d}-{n}", {"pool": f"pool-{p:02d}"}, 8),
                kubernetes={"postEvents": False},
                headers={"authorization": f"Bearer {cluster.admin_token}"},
                ssl=ssl.create_default_context(cafile=str(cluster.ca_file)),
                emulated=False,
            )
        finally:
            if before is None:
                os.environ.pop("KUBECONFIG", None)
            else:
                os.environ["KUBECONFIG"] = before


BACKENDS = {"emulator": emulator_process, "cluster": real_cluster}


async def post(
    session: aiohttp.ClientSession, path: str, body: dict[str, Any], *, stamp: bool
) -> None:
    if stamp:
        # The emulator assigns neither: owner references need the uid, kopf's patches the
        # version.
        body["metadata"].setdefault("uid", f"uid-{body['metadata']['name']}")
        body["metadata"].setdefault("resourceVersion", "1")
    async with session.post(
        path, data=orjson.dumps(body), headers={"content-type": "application/json"}
    ) as response:
        if response.status >= 300:
            raise RuntimeError(f"{path}: {response.status} {await response.text()}")


async def watch_jobs(session: aiohttp.ClientSession, seen: dict[str, float], jobs: int) -> None:
    """Record when each Job first appears, from a watch of all Jobs."""
    async with session.get(
        "/apis/batch/v1/jobs", params={"watch": "true"}, timeout=aiohttp.ClientTimeout(total=None)
    ) as response:
        async for line in response.content:
            if not line.strip():
                continue
            event = orjson.loads(line)
            name = event.get("object", {}).get("metadata", {}).get("name")
            if event.get("type") == "ADDED" and name and name not in seen:
                seen[name] = time.perf_counter()
                if len(seen) >= jobs:
                    return


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def pools_config(pools: int) -> list[dict[str, Any]]:
    return [
        {"name": f"pool-{p:02d}", "gpuType": f"gpu-{p:02d}", "nodeSelector": {"pool": f"pool-{p:02d}"},
         "gpusPerNode": 8, "priority": p % 3}
        for p in range(pools)
    ]  # fmt: skip


def finetunejob(i: int, pools: int) -> dict[str, Any]:
    # hold-*: on the cluster, kwok keeps the pod running (its GPU stays taken).
    return {
        "apiVersion": "llmops.io/v1alpha1", "kind": "FineTuneJob",
        "metadata": {"name": f"hold-{i:04d}", "namespace": "ml"},
        "spec": {"datasets": ["/d.jsonl"], "outputModel": "m", "gpus": 1, "gpuType": f"gpu-{i % pools:02d}"},
    }  # fmt: skip


async def pods_bound(session: aiohttp.ClientSession, jobs: int, deadline: float) -> float | None:
    """When every Job's pod is bound to a node (the scheduler's part), else None."""
    while time.perf_counter() < deadline:
        async with session.get("/api/v1/namespaces/ml/pods") as response:
            items = orjson.loads(await response.read()).get("items") or []
        if sum(1 for p in items if p["spec"].get("nodeName")) >= jobs:
            return time.perf_counter()
        await asyncio.sleep(1)
    return None


async def run(backend: Backend, jobs: int, pools: int, nodes_per_pool: int) -> dict[str, str]:
    connector = aiohttp.TCPConnector(ssl=backend.ssl, limit=16)
    async with aiohttp.ClientSession(
        base_url=backend.url, headers=backend.headers, connector=connector
    ) as session:
        for p in range(pools):
            for n in range(nodes_per_pool):
                await post(session, "/api/v1/nodes", backend.node(p, n), stamp=backend.emulated)
        config = kube.config_for(
            backend.url,
            kubernetes=backend.kubernetes,
            nodePools=pools_config(pools),
            timing={"pendingRetrySeconds": 5, "aliasPollSeconds": 60},
        )
        started_operator = time.perf_counter()
        async with kube.operator_in_thread(config) as memo:
            ready = time.perf_counter() - started_operator
            seen: dict[str, float] = {}
            watcher = asyncio.create_task(watch_jobs(session, seen, jobs))
            await asyncio.sleep(0.2)  # the watch is open
            created: dict[str, float] = {}
            t0 = time.perf_counter()
            for i in range(jobs):
                body = finetunejob(i, pools)
                created[f"{body['metadata']['name']}-ft1"] = time.perf_counter()
                await post(
                    session,
                    "/apis/llmops.io/v1alpha1/namespaces/ml/finetunejobs",
                    body,
                    stamp=backend.emulated,
                )
            submitted = time.perf_counter() - t0
            await asyncio.wait_for(watcher, timeout=600)
            total = time.perf_counter() - t0
            bound = None
            if not backend.emulated:
                bound = await pods_bound(session, jobs, time.perf_counter() + 600)
            registry = memo.ctx.metrics.registry
            count = registry.get_sample_value("llmops_operator_placement_seconds_count") or 0
            decided = registry.get_sample_value("llmops_operator_placement_seconds_sum") or 0
            per_pool: dict[str, int] = {}
            for reservation in memo.ctx.cluster.reservations.values():
                per_pool[reservation.pool] = per_pool.get(reservation.pool, 0) + 1
    latencies = [seen[k] - created[k] for k in created]
    met = "met" if total < TARGET_SECONDS else "NOT met"
    return {
        "operator ready after": f"{ready:.2f} s",
        "FineTuneJobs submitted in": f"{submitted:.2f} s",
        f"all {jobs} Jobs exist after": f"{total:.2f} s ({met})",
        "throughput": f"{jobs / total:.1f} jobs/s",
        "creation -> Job p50 / p95": f"{statistics.median(latencies):.3f} / {percentile(latencies, 0.95):.3f} s",
        "creation -> Job max": f"{max(latencies):.3f} s",
        "placement decision, mean": f"{1000 * decided / max(count, 1):.3f} ms ({int(count)})",
        "jobs per pool, min / max": f"{min(per_pool.values())} / {max(per_pool.values())} ({len(per_pool)} pools)",
        "every Job's pod bound after": (
            "n/a (nothing schedules)" if backend.emulated
            else f"{bound - t0:.2f} s" if bound is not None else "not within 600 s"
        ),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--pools", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=7)
    parser.add_argument("--against", choices=["both", *BACKENDS], default="both")
    args = parser.parse_args()
    chosen = list(BACKENDS) if args.against == "both" else [args.against]
    results: dict[str, dict[str, str]] = {}
    for name in chosen:
        try:
            with BACKENDS[name]() as backend:
                results[name] = asyncio.run(run(backend, args.jobs, args.pools, args.nodes))
        except assets.Unavailable as e:
            print(f"{name}: skipped: {e}", file=sys.stderr)
    print(
        f"{args.pools} node pools x {args.nodes} nodes x 8 GPUs; {args.jobs} FineTuneJobs of 1 GPU;"
        f" target: all Jobs within {TARGET_SECONDS:.0f} s"
    )
    print(f"{'':32}" + "".join(f"{name:>28}" for name in results))
    for figure in next(iter(results.values()), {}):
        print(f"{figure:32}" + "".join(f"{r[figure]:>28}" for r in results.values()))


if __name__ == "__main__":
    main()
