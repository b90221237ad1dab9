"""The cluster's binaries and the CRDs of KubeRay and Kueue, from pinned Go modules.

Binaries are built once per pinned version into ``.cache/cluster/<versions>/`` (ignored
by git); the Go build cache makes a rebuild in a fresh clone a matter of linking. As
with envtest, ``KUBEBUILDER_ASSETS`` may name a folder of prebuilt binaries: those found
there are used and not built.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MODULES = Path(__file__).resolve().parent / "modules"

KUBERNETES = "v1.36.3"
KWOK = "v0.8.0"
KUBERAY = "v1.5.0"
CACHE = ROOT / ".cache" / "cluster" / f"kubernetes-{KUBERNETES}-kwok-{KWOK}-kuberay-{KUBERAY}"

# Binary -> (module folder, package). etcd is embedded from the etcd server module of the
# version Kubernetes requires (``cmd/etcd``, ours).
BUILT = {
    "etcd": ("kubernetes", "llmops.test/cluster/cmd/etcd"),
    "kube-apiserver": ("kubernetes", "k8s.io/kubernetes/cmd/kube-apiserver"),
    "kube-controller-manager": ("kubernetes", "k8s.io/kubernetes/cmd/kube-controller-manager"),
    "kube-scheduler": ("kubernetes", "k8s.io/kubernetes/cmd/kube-scheduler"),
    "kwok": ("kwok", "sigs.k8s.io/kwok/cmd/kwok"),
    "ray-operator": ("kuberay", "github.com/ray-project/kuberay/ray-operator"),
}
# Module -> the folders of its CRD manifests.
CRD_MODULES = {
    "github.com/ray-project/kuberay/ray-operator": ("config/crd/bases",),
    "sigs.k8s.io/kueue": ("config/components/crd/bases",),
}


class Unavailable(Exception):
    """The binaries can be neither found nor built here (the reason says why)."""


@dataclass(frozen=True)
class Assets:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kwok: Path
    kuberay_operator: Path
    """KubeRay's operator, run by the tests that want RayServices turned into pods."""
    crds: tuple[Path, ...]
    """KubeRay's and Kueue's CRD manifests, as their own modules ship them."""


def _say(message: str) -> None:
    sys.stderr.write(f"cluster assets: {message}\n")
    sys.stderr.flush()


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise Unavailable(
            "no Go toolchain (go) to build Kubernetes "
            f"{KUBERNETES} and kwok {KWOK}; install Go >= 1.26, or set KUBEBUILDER_ASSETS "
            f"to a folder holding {', '.join(BUILT)}"
        )
    return go


def _go_env() -> dict[str, str]:
    # The go.sum files pin every module; a build never edits them.
    return {**os.environ, "GOFLAGS": "-mod=readonly -buildvcs=false", "CGO_ENABLED": "0"}


def _ldflags(module: str) -> str:
    flags = "-s -w"
    if module == "kubernetes":
        # Helm and kubectl read the server's version from /version.
        major, minor = KUBERNETES.lstrip("v").split(".")[:2]
        base = "k8s.io/component-base/version"
        flags += (
            f" -X {base}.gitVersion={KUBERNETES} -X {base}.gitMajor={major}"
            f" -X {base}.gitMinor={minor} -X {base}.gitTreeState=clean"
        )
    return flags


def _build(module: str, names: list[str]) -> None:
    go = _go()
    packages = [BUILT[n][1] for n in names]
    _say(f"building {', '.join(names)} with Go (a few minutes from cold on 2 cores; cached after)")
    started = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    command = [go, "build", "-C", str(MODULES / module), "-v", "-pgo=off", "-trimpath"]
    command += ["-ldflags", _ldflags(module), "-o", str(CACHE) + "/", *packages]
    proc = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=_go_env()
    )
    assert proc.stderr is not None
    compiled = 0
    tail: list[str] = []
    done = threading.Event()

    def report() -> None:
        while not done.wait(30):
            _say(f"  ... {compiled} packages built or fetched, {time.monotonic() - started:.0f} s")

    reporter = threading.Thread(target=report, daemon=True)
    reporter.start()
    for line in proc.stderr:
        compiled += 1
        tail = [*tail[-40:], line.rstrip()]
    done.set()
    if proc.wait() != 0:
        raise RuntimeError(f"go build failed for {', '.join(names)}:\n" + "\n".join(tail))
    _say(f"built {', '.join(names)} in {time.monotonic() - started:.0f} s")


def _folders() -> list[Path]:
    """Where built assets are looked for: ``KUBEBUILDER_ASSETS`` first, then the cache."""
    given = os.environ.get("KUBEBUILDER_ASSETS")
    return [Path(given), CACHE] if given else [CACHE]


def _crds(*, build: bool) -> tuple[Path, ...]:
    """The CRD manifests, copied next to the binaries when they are built (a folder
    ``crds/`` in ``KUBEBUILDER_ASSETS`` stands in for them)."""
    for folder in _folders():
        if any((folder / "crds").glob("*.yaml")):
            return tuple(sorted((folder / "crds").glob("*.yaml")))
    if not build:
        raise Unavailable(
            "KubeRay's and Kueue's CRDs are not in .cache/cluster yet (run `make cluster-assets`)"
        )
    go = _go()
    target = CACHE / "crds"
    target.mkdir(parents=True, exist_ok=True)
    for module, folders in CRD_MODULES.items():
        result = subprocess.run(
            [go, "mod", "download", "-json", module],
            cwd=MODULES / "crds",
            capture_output=True,
            text=True,
            env=_go_env(),
            check=False,
        )
        info = json.loads(result.stdout or "{}")
        if result.returncode != 0 or "Dir" not in info:
            raise RuntimeError(f"go mod download {module}: {info.get('Error') or result.stderr}")
        for subdir in folders:
            for manifest in sorted((Path(info["Dir"]) / subdir).glob("*.yaml")):
                shutil.copyfile(manifest, target / manifest.name)
    return tuple(sorted(target.glob("*.yaml")))


def ensure(*, build: bool = True) -> Assets:
    """Every binary, found or built (``build=False``: found only, else :class:`Unavailable`)."""
    located: dict[str, Path] = {}
    for name in BUILT:
        for folder in _folders():
            if (folder / name).is_file():
                located[name] = folder / name
                break
    missing = [n for n in BUILT if n not in located]
    if missing and not build:
        raise Unavailable(
            f"not built yet: {', '.join(missing)} (run `make cluster-assets`, which builds "
            "them with Go, or set KUBEBUILDER_ASSETS to a folder holding them)"
        )
    for module in ("kubernetes", "kwok", "kuberay"):
        names = [n for n in missing if BUILT[n][0] == module]
        if names:
            _build(module, names)
            located.update({n: CACHE / n for n in names})
    return Assets(
        etcd=located["etcd"],
        kube_apiserver=located["kube-apiserver"],
        kube_controller_manager=located["kube-controller-manager"],
        kube_scheduler=located["kube-scheduler"],
        kwok=located["kwok"],
        kuberay_operator=located["ray-operator"],
        crds=_crds(build=build),
    )
