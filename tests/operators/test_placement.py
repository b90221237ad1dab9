"""Placement and free capacity: pure decisions on plain data."""

from __future__ import annotations

from operators import capacity
from operators.config import NodePool
from operators.placement import PlacementRequest, PoolCapacity, place


def pool(name: str, gpu_type: str, free: tuple[int, ...], priority: int = 0) -> PoolCapacity:
    return PoolCapacity(name, gpu_type, priority, free)


def test_the_matching_gpu_type_with_room_is_chosen() -> None:
    pools = [pool("l4", "nvidia-l4", (4,)), pool("a100", "nvidia-a100", (8,))]
    decision = place(pools, PlacementRequest(gpus_per_node=2, gpu_type="nvidia-a100"))
    assert decision.pool == "a100" and decision.reason == "Placed"


def test_priority_wins_among_pools_that_fit_then_free_gpus() -> None:
    pools = [
        pool("spot", "a100", (8, 8), priority=0),
        pool("reserved", "a100", (2,), priority=10),
        pool("reserved-b", "a100", (4,), priority=10),
    ]
    assert place(pools, PlacementRequest(gpus_per_node=2, gpu_type="a100")).pool == "reserved-b"
    # Needs 4: only the spot pool and reserved-b fit; reserved-b still has the priority.
    assert place(pools, PlacementRequest(gpus_per_node=4, gpu_type="a100")).pool == "reserved-b"
    assert place(pools, PlacementRequest(gpus_per_node=6, gpu_type="a100")).pool == "spot"


def test_gpus_must_fit_on_one_node_per_worker() -> None:
    # 8 free GPUs in all, but 4 nodes of 2: a 4-GPU worker fits nowhere.
    pools = [pool("small", "t4", (2, 2, 2, 2))]
    decision = place(pools, PlacementRequest(gpus_per_node=4, gpu_type="t4"))
    assert decision.pool is None and decision.reason == "InsufficientCapacity"
    assert "most free: 8 GPU(s) in small" in decision.message
    assert place(pools, PlacementRequest(gpus_per_node=2, nodes=4, gpu_type="t4")).pool == "small"
    assert place(pools, PlacementRequest(gpus_per_node=2, nodes=5, gpu_type="t4")).pool is None


def test_a_pool_named_wins_over_gpu_type_and_unknown_types_say_so() -> None:
    pools = [pool("l4", "nvidia-l4", (4,), priority=5), pool("a100", "nvidia-a100", (8,))]
    assert (
        place(pools, PlacementRequest(gpus_per_node=1, pool="a100", gpu_type="nvidia-l4")).pool
        == "a100"
    )
    decision = place(pools, PlacementRequest(gpus_per_node=1, gpu_type="tpu"))
    assert decision.reason == "NoMatchingPool" and "'tpu'" in decision.message


def test_free_capacity_is_allocatable_minus_running_pods_and_unbound_reservations() -> None:
    pools = [
        NodePool.model_validate(
            {"name": "a", "gpuType": "a100", "nodeSelector": {"pool": "a"}, "priority": 1}
        ),
        NodePool.model_validate({"name": "b", "gpuType": "a100", "nodeSelector": {"pool": "b"}}),
    ]
    nodes = [
        capacity.node_info("a1", {"pool": "a"}, {"allocatable": {"nvidia.com/gpu": "8"}}),
        capacity.node_info(
            "a2", {"pool": "a", "zone": "z"}, {"allocatable": {"nvidia.com/gpu": "8"}}
        ),
        capacity.node_info("b1", {"pool": "b"}, {"allocatable": {"nvidia.com/gpu": 4}}),
        capacity.node_info("cpu", {"pool": "c"}, {"allocatable": {"cpu": "32"}}),
    ]
    running = {"nodeName": "a1", "containers": [{"resources": {"limits": {"nvidia.com/gpu": "6"}}}]}
    done = {"nodeName": "a2", "containers": [{"resources": {"requests": {"nvidia.com/gpu": "8"}}}]}
    loads = [
        capacity.pod_load(running, {"phase": "Running"}),
        capacity.pod_load(done, {"phase": "Succeeded"}),  # terminated: holds nothing
    ]
    reserved = [capacity.Reservation("ml/j", "a", 4, 1)]
    result = {
        p.name: p for p in capacity.pool_capacities(pools, nodes, [x for x in loads if x], reserved)
    }
    assert sorted(result["a"].free_per_node) == [2, 4]
    assert result["b"].free_per_node == (4,)
    assert (
        place(list(result.values()), PlacementRequest(gpus_per_node=4, gpu_type="a100")).pool == "a"
    )
    assert (
        place(list(result.values()), PlacementRequest(gpus_per_node=5, gpu_type="a100")).pool
        is None
    )


def test_pod_gpus_counts_containers_and_the_largest_init_container() -> None:
    spec = {
        "initContainers": [{"resources": {"limits": {"nvidia.com/gpu": "3"}}}],
        "containers": [
            {"resources": {"requests": {"nvidia.com/gpu": "1"}}},
            {"resources": {"limits": {"nvidia.com/gpu": "1"}}},
            {"resources": {}},
        ],
    }
    assert capacity.pod_gpus(spec) == 3
    assert capacity.quantity("2000m") == 2
