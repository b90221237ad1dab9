"""``llmops operator run`` as a process against the test cluster, under the service account
the chart gives it: it holds that account's token, so it can do only what the chart's
RBAC grants."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import yaml
from kubernetes import client as kube_client

from tests.support.cluster.controlplane import Cluster, die_with_parent, stop_process
from tests.support.cluster.objects import Objects

AUDIENCE = "https://kubernetes.default.svc.cluster.local"


def service_account_token(kube: Objects, namespace: str, name: str) -> str:
    """A token for the service account, as the kubelet mounts one (TokenRequest API)."""
    core = kube_client.CoreV1Api(kube.api)
    request = kube_client.AuthenticationV1TokenRequest(
        spec=kube_client.V1TokenRequestSpec(audiences=[AUDIENCE], expiration_seconds=7200)
    )
    created = core.create_namespaced_service_account_token(name, namespace, request)
    assert created.status is not None and created.status.token
    return str(created.status.token)


def chart_config(kube: Objects, namespace: str, configmap: str, **changes: Any) -> dict[str, Any]:
    """The operator's configuration as the chart installed it, with ``changes`` on top
    (what differs outside a pod: MLflow's address, timings)."""
    found = kube.get("v1", "ConfigMap", configmap, namespace)
    assert found is not None, f"the chart made no ConfigMap {configmap}"
    config: dict[str, Any] = yaml.safe_load(found["data"]["operator.yaml"])
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


class OperatorProcess:
    """The operator, started, killed and restarted by a test; its log kept for failures."""

    def __init__(self, cluster: Cluster, token: str, config: dict[str, Any], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = cluster.kubeconfig_for(token, workdir / "operator.kubeconfig")
        self.config_path = workdir / "operator.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = workdir / "operator.log"
        self._log: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert not self.alive(), "already running"
        if self._log is None:
            self._log = self.log_path.open("ab")
        command = [str(Path(sys.executable).with_name("llmops")), "operator", "run"]
        self._proc = subprocess.Popen(
            [*command, "--config", str(self.config_path)],
            env={**os.environ, "KUBECONFIG": str(self.kubeconfig)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # noqa: PLW1509 (set before exec, nothing else)
        )

    def kill(self) -> None:
        """Gone at once, mid-way through whatever it was doing (a node lost, an OOM kill)."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(10)

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc, grace=30)
        if self._log is not None:
            self._log.close()
            self._log = None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
