"""Starting and stopping the test cluster: etcd, the API server, the controller manager,
the scheduler and kwok, each a process on loopback, in a folder of its own.

The API server authenticates a static admin token (``system:masters``) and service
account tokens, and authorizes with RBAC, so a client holding a service account's token
gets only what its roles grant.
"""

from __future__ import annotations

import contextlib
import ctypes
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import yaml

from tests.support.cluster import pki
from tests.support.cluster.assets import Assets
from tests.support.services import free_port

STAGES = Path(__file__).resolve().parent / "kwok-stages.yaml"
SERVICE_CIDR = "10.96.0.0/16"
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child: be sent SIGTERM when the test process dies, even by SIGKILL, so no
    control plane outlives a killed test run (Linux's parent-death signal)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_process(proc: subprocess.Popen[bytes], grace: float = 15) -> None:
    """Asked to stop (SIGTERM), then killed if it has not within ``grace`` seconds."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


@dataclass
class Cluster:
    """A running control plane: its URL, CA, admin token and the kubeconfig holding them."""

    assets: Assets
    server: str
    ca_file: Path
    admin_token: str
    kubeconfig: Path
    workdir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: list[IO[bytes]] = field(default_factory=list)

    def kubeconfig_for(self, token: str, path: Path, namespace: str = "default") -> Path:
        """A kubeconfig of this cluster for another identity (a service account's token)."""
        path.write_text(yaml.safe_dump(_kubeconfig(self.server, self.ca_file, token, namespace)))
        return path

    def log(self, component: str) -> str:
        return (self.workdir / f"{component}.log").read_text(errors="replace")

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        """A process beside the control plane (a controller), logged as ``name``,
        stopped with the cluster unless its caller stops it first."""
        log = (self.workdir / f"{name}.log").open("wb")
        self.logs.append(log)
        proc = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # noqa: PLW1509 (set before exec, nothing else)
        )
        self.processes[name] = proc
        return proc

    def stop(self, name: str) -> None:
        stop_process(self.processes.pop(name))

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}
        if dead:
            name = next(iter(dead))
            raise RuntimeError(f"{name} exited ({dead[name]}):\n{self.log(name)[-3000:]}")


def _kubeconfig(server: str, ca_file: Path, token: str, namespace: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": {"server": server, "certificate-authority": str(ca_file)}}],
        "users": [{"name": "user", "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "user", "namespace": namespace}}],
        "current-context": "test",
    }  # fmt: skip


def _wait_ready(cluster: Cluster, url: str, timeout: float, token: str | None = None) -> None:
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    headers = {"authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        cluster.check_alive()
        try:
            request = urllib.request.Request(url, headers=headers)
            opener = context if url.startswith("https") else None
            with urllib.request.urlopen(request, timeout=2, context=opener) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as e:
            last = str(e)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s ({last})")


def _etcd(cluster: Cluster, assets: Assets) -> str:
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"
    cluster.start("etcd", [
        str(assets.etcd), "--data-dir", str(cluster.workdir / "etcd"),
        "--listen-client-urls", url, "--advertise-client-urls", url,
        "--listen-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-cluster", f"default=http://127.0.0.1:{peer}",
        "--unsafe-no-fsync", "--log-level", "warn",
    ])  # fmt: skip
    _wait_ready(cluster, f"{url}/health", 30)
    return url


def _apiserver(cluster: Cluster, assets: Assets, etcd: str, keys: dict[str, Path]) -> None:
    tokens = cluster.workdir / "tokens.csv"
    tokens.write_text(f'{cluster.admin_token},admin,admin,"system:masters"\n')
    port = int(cluster.server.rsplit(":", 1)[1])
    cluster.start("kube-apiserver", [
        str(assets.kube_apiserver),
        "--etcd-servers", etcd,
        "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
        "--secure-port", str(port), "--cert-dir", str(cluster.workdir / "certs"),
        "--tls-cert-file", str(keys["apiserver.crt"]),
        "--tls-private-key-file", str(keys["apiserver.key"]),
        "--client-ca-file", str(keys["ca.crt"]),
        "--token-auth-file", str(tokens),
        "--authorization-mode", "RBAC",
        "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file", str(keys["sa.pub"]),
        "--service-account-signing-key-file", str(keys["sa.key"]),
        "--api-audiences", "https://kubernetes.default.svc.cluster.local",
        "--service-cluster-ip-range", SERVICE_CIDR,
        "--allow-privileged=true",
        # Endpoints may not point at loopback: nothing in the cluster calls the API
        # server through its Service here.
        "--endpoint-reconciler-type=none",
        "--profiling=false",
    ])  # fmt: skip
    _wait_ready(cluster, f"{cluster.server}/readyz", 90, cluster.admin_token)


def _controllers(cluster: Cluster, assets: Assets, keys: dict[str, Path]) -> None:
    kubeconfig = str(cluster.kubeconfig)
    cluster.start("kube-controller-manager", [
        str(assets.kube_controller_manager),
        "--kubeconfig", kubeconfig,
        "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
        "--bind-address", "127.0.0.1", "--secure-port", str(free_port()),
        "--leader-elect=false",
        "--service-account-private-key-file", str(keys["sa.key"]),
        "--root-ca-file", str(keys["ca.crt"]),
        "--cluster-signing-cert-file", str(keys["ca.crt"]),
        "--cluster-signing-key-file", str(keys["ca.key"]),
        "--controllers", "*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
        "--profiling=false",
    ])  # fmt: skip
    cluster.start("kube-scheduler", [
        str(assets.kube_scheduler),
        "--kubeconfig", kubeconfig,
        "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
        "--bind-address", "127.0.0.1", "--secure-port", str(free_port()),
        "--leader-elect=false", "--profiling=false",
    ])  # fmt: skip
    cluster.start("kwok", [
        str(assets.kwok),
        "--kubeconfig", kubeconfig,
        "--config", str(STAGES),
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
        "--node-lease-duration-seconds=40",
        "--cidr=10.0.0.0/16", "--node-ip=10.0.0.1",
        "--server-address", f"127.0.0.1:{free_port()}",
    ])  # fmt: skip


def _stop(cluster: Cluster) -> None:
    # The reverse of the start order: the API server outlives its clients, etcd outlives it.
    # All are asked at once, so they stop side by side rather than one after another.
    started = list(reversed(cluster.processes.values()))
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
    for proc in started:
        stop_process(proc)
    for log in cluster.logs:
        log.close()


@contextlib.contextmanager
def running(assets: Assets) -> Iterator[Cluster]:
    """A fresh cluster (new etcd data), stopped and removed on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="llmops-cluster-"))
    cluster: Cluster | None = None
    try:
        keys = pki.write(workdir / "pki")
        cluster = Cluster(
            assets=assets,
            server=f"https://127.0.0.1:{free_port()}",
            ca_file=keys["ca.crt"],
            admin_token=secrets.token_urlsafe(24),
            kubeconfig=workdir / "admin.kubeconfig",
            workdir=workdir,
        )
        cluster.kubeconfig_for(cluster.admin_token, cluster.kubeconfig)
        etcd = _etcd(cluster, assets)
        _apiserver(cluster, assets, etcd, keys)
        _controllers(cluster, assets, keys)
        yield cluster
    finally:
        if cluster is not None:
            _stop(cluster)
        shutil.rmtree(workdir, ignore_errors=True)
