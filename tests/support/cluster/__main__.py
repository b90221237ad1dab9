"""Build (or find) the cluster's binaries: ``python -m tests.support.cluster``.

Exits 0 having built them, and also when they cannot be built here (no Go), saying why:
the cluster suite then skips with the same reason.
"""

from __future__ import annotations

import sys
import time

from tests.support.cluster import assets

started = time.monotonic()
try:
    found = assets.ensure()
except assets.Unavailable as e:
    sys.stderr.write(f"cluster assets: unavailable, the cluster tests will be skipped: {e}\n")
    sys.exit(0)
sys.stderr.write(
    f"cluster assets: ready in {time.monotonic() - started:.1f} s: Kubernetes "
    f"{assets.KUBERNETES} ({found.kube_apiserver.parent}), kwok {assets.KWOK}, "
    f"{len(found.crds)} KubeRay and Kueue CRDs\n"
)
