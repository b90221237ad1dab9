"""A real Prometheus server (Debian's ``prometheus`` package) scraping test targets.

``make test`` installs the package when it is missing; the binary is found on PATH or at
``/usr/bin/prometheus``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.services import free_port


def binary() -> str:
    found = shutil.which("prometheus") or (
        "/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None
    )
    if found is None:
        raise RuntimeError(
            "Prometheus is not installed: `make test` installs Debian's package as root, "
            "or run `apt-get install prometheus`"
        )
    return found


@dataclass(frozen=True)
class Prometheus:
    url: str

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant query's result vector (or scalar, as one item)."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as reply:
            body = json.loads(reply.read())
        assert body["status"] == "success", body
        data = body["data"]
        result: list[dict[str, Any]] = (
            data["result"] if data["resultType"] in ("vector", "matrix") else [data]
        )
        return result

    def targets_up(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/api/v1/targets", timeout=10) as reply:
            active = json.loads(reply.read())["data"]["activeTargets"]
        return bool(active) and all(t["health"] == "up" for t in active)


def _ready(server: Prometheus) -> bool:
    try:
        return server.targets_up()
    except OSError:
        return False


@contextlib.contextmanager
def prometheus_scraping(
    targets: Sequence[str], *, interval_seconds: float = 1.0
) -> Iterator[Prometheus]:
    """Prometheus scraping ``host:port`` targets at ``/metrics``."""
    workdir = Path(tempfile.mkdtemp(prefix="llmops-prometheus-"))
    config = {
        "global": {
            "scrape_interval": f"{round(interval_seconds * 1000)}ms",
            "evaluation_interval": "1s",
        },
        "scrape_configs": [{"job_name": "llmops", "static_configs": [{"targets": list(targets)}]}],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            binary(),
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        server = Prometheus(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        while not _ready(server):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (workdir / "prometheus.log").read_text()[-2000:]
                raise RuntimeError(f"Prometheus did not start scraping {targets}:\n{output}")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
