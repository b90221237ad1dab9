"""How fast the operator places a burst of FineTuneJobs: 1,000 jobs over 20 GPU node pools.

kmock's Kubernetes emulator (over real HTTP, with the built-in resources, KubeRay's and
our CRDs) holds 20 node pools of 7 nodes with 8 GPUs each (1,120 GPUs); the real kopf
operator runs in a thread against it. Once it is ready, 1,000 FineTuneJobs asking for
1 GPU of a pool's type (round-robin over the 20 types) are created as fast as the
emulator takes them. The script reports the time until every Job exists, each job's
time from creation to its Job (first seen by a 20 ms poll of the emulator's store),
and the placement decision itself (the operator's llmops_operator_placement_seconds
histogram). Nothing is asserted; the target is printed beside the figures.

    python bench/operator_scale.py [--jobs 1000] [--pools 20] [--nodes 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import kmock
import orjson

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `tests`

from tests.support import kube  # the emulator's resources and the operator thread

TARGET_SECONDS = 60.0


async def post(emulator: Any, path: str, body: dict[str, Any]) -> None:
    body["metadata"].setdefault("uid", f"uid-{body['metadata']['name']}")
    body["metadata"].setdefault("resourceVersion", "1")
    response = await emulator.post(
        path, data=orjson.dumps(body), headers={"content-type": "application/json"}
    )
    if response.status >= 300:
        raise RuntimeError(f"{path}: {response.status} {await response.text()}")


def jobs_present(emulator: Any) -> set[str]:
    return {
        name
        for (resource, _, name), obj in list(emulator.objects.items())
        if resource.plural == "jobs" and resource.group == "batch" and not obj.deleted
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(jobs: int, pools: int, nodes: int) -> None:
    pool_config = [
        {"name": f"pool-{p:02d}", "gpuType": f"gpu-{p:02d}", "nodeSelector": {"pool": f"pool-{p:02d}"},
         "gpusPerNode": 8, "priority": p % 3}
        for p in range(pools)
    ]  # fmt: skip
    async with kube.ForgetfulEmulator() as emulator, kmock.Server(emulator):
        kube.teach(emulator)
        for p in range(pools):
            for n in range(nodes):
                await post(emulator, "/api/v1/nodes", kube.node(f"n-{p:02d}-{n}", {"pool": f"pool-{p:02d}"}, 8))
        config = kube.config_for(str(emulator.url), nodePools=pool_config, timing={"pendingRetrySeconds": 5, "aliasPollSeconds": 60})
        started_operator = time.perf_counter()
        async with kube.operator_in_thread(config) as memo:
            ready = time.perf_counter() - started_operator
            created: dict[str, float] = {}
            seen: dict[str, float] = {}
            t0 = time.perf_counter()

            async def watch() -> None:
                while len(seen) < jobs:
                    now = time.perf_counter()
                    for name in jobs_present(emulator) - seen.keys():
                        seen[name] = now
                    await asyncio.sleep(0.02)

            watcher = asyncio.create_task(watch())
            for i in range(jobs):
                name = f"job-{i:04d}"
                created[f"{name}-ft1"] = time.perf_counter()
                await post(emulator, "/apis/llmops.io/v1alpha1/namespaces/ml/finetunejobs", {
                    "apiVersion": "llmops.io/v1alpha1", "kind": "FineTuneJob",
                    "metadata": {"name": name, "namespace": "ml"},
                    "spec": {"datasets": ["/d.jsonl"], "outputModel": "m", "gpus": 1, "gpuType": f"gpu-{i % pools:02d}"},
                })  # fmt: skip
            submitted = time.perf_counter() - t0
            try:
                await asyncio.wait_for(watcher, timeout=float(__import__("os").environ.get("BENCH_WAIT", "600")))
            except TimeoutError:
                print("seen", len(seen), "objects", sorted({(r.group, r.plural) for (r, _, _) in emulator.objects}))
                raise
            total = time.perf_counter() - t0
            latencies = [seen[k] - created[k] for k in created]
            histogram = memo.ctx.metrics.registry
            count = histogram.get_sample_value("llmops_operator_placement_seconds_count") or 0
            placed_sum = histogram.get_sample_value("llmops_operator_placement_seconds_sum") or 0
            per_pool: dict[str, int] = {}
            for status in memo.ctx.cluster.reservations.values():
                per_pool[status.pool] = per_pool.get(status.pool, 0) + 1
    print(f"operator ready after            {ready:8.2f} s")
    print(f"{jobs} FineTuneJobs submitted in  {submitted:8.2f} s")
    print(f"all {jobs} Jobs exist after      {total:8.2f} s   (target < {TARGET_SECONDS:.0f} s: {'met' if total < TARGET_SECONDS else 'NOT met'})")
    print(f"throughput                      {jobs / total:8.1f} jobs/s")
    print(f"creation -> Job, per job        p50 {statistics.median(latencies):.3f} s   p95 {percentile(latencies, 0.95):.3f} s   max {max(latencies):.3f} s")
    print(f"placement decision, per job     mean {1000 * placed_sum / max(count, 1):.3f} ms over {int(count)} decisions")
    print(f"jobs per pool                   min {min(per_pool.values())}   max {max(per_pool.values())}   pools used {len(per_pool)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--pools", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(run(args.jobs, args.pools, args.nodes))


if __name__ == "__main__":
    main()
