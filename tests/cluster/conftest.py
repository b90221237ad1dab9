"""One test cluster for this package's tests (stopped before the rest of the suite runs): Kubernetes' own control plane on loopback, kwok's fake
node pools, KubeRay's and Kueue's CRDs. Skipped, with the reason, where its binaries are
neither built (``make cluster-assets``) nor named by ``KUBEBUILDER_ASSETS``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import assets, controlplane, nodes
from tests.support.cluster.objects import Objects, condition_true, eventually

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The first test also pays for starting the control plane, and each test's waits have
    # generous deadlines of their own (a loaded machine): their sum bounds the marker.
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.timeout(900))


@pytest.fixture(scope="package")
def cluster() -> Iterator[controlplane.Cluster]:
    try:
        found = assets.ensure(build=False)
    except assets.Unavailable as e:
        pytest.skip(f"no test cluster: {e}")
    with controlplane.running(found) as running:
        kube = Objects(running.kubeconfig, running.workdir)
        try:
            kube.apply_files(found.crds)
            kube.apply(nodes.STORAGE_CLASS)
            for index in range(24):
                kube.apply(nodes.volume(index))
            wanted = nodes.all_nodes()
            for node in wanted:
                kube.apply(node)

            def ready() -> bool:
                running.check_alive()
                seen = kube.list("v1", "Node")
                return len(seen) == len(wanted) and all(condition_true(n, "Ready") for n in seen)

            eventually(ready, timeout=60, what="fake nodes Ready")
        finally:
            kube.close()
        yield running


@pytest.fixture(scope="package")
def kube(cluster: controlplane.Cluster) -> Iterator[Objects]:
    """The cluster as its administrator sees it."""
    client = Objects(cluster.kubeconfig, cluster.workdir)
    yield client
    client.close()
