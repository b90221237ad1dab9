"""How fast the operator places a burst of FineTuneJobs: 1,000 jobs over 20 GPU node pools.

kmock's Kubernetes emulator, in a process of its own as an API server is (real HTTP,
the built-in resources, KubeRay's and our CRDs), holds 20 node pools of 7 nodes with 8 GPUs each (1,120 GPUs); the real kopf
operator runs in a thread against it. Once it is ready, 1,000 FineTuneJobs asking for
1 GPU of a pool's type (round-robin over the 20 types) are created as fast as the
emulator takes them. The script reports the time until every Job exists, each job's
time from creation to its Job (as a watch of Jobs sees it),
and the placement decision itself (the operator's llmops_operator_placement_seconds
histogram). Nothing is asserted; the target is printed beside the figures.

    python bench/operator_scale.py [--jobs 1000] [--pools 20] [--nodes 7]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `tests`

from tests.support import kube  # the emulator's resources and the operator thread
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


@contextlib.contextmanager
def emulator_process() -> Iterator[str]:
    """kmock's emulator in a process of its own (as an API server is): its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, str(port)],
        stdin=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def post(session: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> None:
    # The emulator assigns neither: owner references need the uid, kopf's patches the version.
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
    return {
        "apiVersion": "llmops.io/v1alpha1", "kind": "FineTuneJob",
        "metadata": {"name": f"job-{i:04d}", "namespace": "ml"},
        "spec": {"datasets": ["/d.jsonl"], "outputModel": "m", "gpus": 1, "gpuType": f"gpu-{i % pools:02d}"},
    }  # fmt: skip


async def run(url: str, jobs: int, pools: int, nodes: int) -> None:
    async with aiohttp.ClientSession(base_url=url) as session:
        for p in range(pools):
            for n in range(nodes):
                await post(
                    session,
                    "/api/v1/nodes",
                    kube.node(f"n-{p:02d}-{n}", {"pool": f"pool-{p:02d}"}, 8),
                )
        config = kube.config_for(
            url,
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
                await post(session, "/apis/llmops.io/v1alpha1/namespaces/ml/finetunejobs", body)
            submitted = time.perf_counter() - t0
            await asyncio.wait_for(watcher, timeout=600)
            total = time.perf_counter() - t0
            registry = memo.ctx.metrics.registry
            count = registry.get_sample_value("llmops_operator_placement_seconds_count") or 0
            decided = registry.get_sample_value("llmops_operator_placement_seconds_sum") or 0
            per_pool: dict[str, int] = {}
            for reservation in memo.ctx.cluster.reservations.values():
                per_pool[reservation.pool] = per_pool.get(reservation.pool, 0) + 1
    latencies = [seen[k] - created[k] for k in created]
    print(f"{pools} node pools x {nodes} nodes x 8 GPUs; {jobs} FineTuneJobs of 1 GPU")
    print(f"operator ready after               {ready:8.2f} s")
    print(f"FineTuneJobs submitted in          {submitted:8.2f} s")
    print(
        f"all {jobs} Jobs exist after         {total:8.2f} s   (target < {TARGET_SECONDS:.0f} s: {'met' if total < TARGET_SECONDS else 'NOT met'})"
    )
    print(f"throughput                         {jobs / total:8.1f} jobs/s")
    print(
        f"creation -> Job, per job           p50 {statistics.median(latencies):.3f} s   p95 {percentile(latencies, 0.95):.3f} s   max {max(latencies):.3f} s"
    )
    print(
        f"placement decision, per job        mean {1000 * decided / max(count, 1):.3f} ms over {int(count)} decisions"
    )
    print(
        f"jobs per pool                      min {min(per_pool.values())}   max {max(per_pool.values())}   pools used {len(per_pool)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--pools", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=7)
    args = parser.parse_args()
    with emulator_process() as url:
        asyncio.run(run(url, args.jobs, args.pools, args.nodes))


if __name__ == "__main__":
    main()
