"""The fleet :mod:`bench.faults` injects faults into: gateways, replicas, Redis, a link to
PostgreSQL, each restartable on its own port."""

from __future__ import annotations

import functools
import os
import signal
import sys
from pathlib import Path

import yaml

from bench import _services
from tests.support.netfault import Relay

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
# Limits every key has, far above what the benchmark sends: each request is counted in Redis.
LIMITS = {"rpm": 10_000_000, "tpm": 1_000_000_000}
EXTRA_LIMITS: dict[str, float] = {}
"""More ``limits`` settings for the gateways (to try other values by hand)."""


class Fleet:
    """The processes and links of the fleet, each one restartable on its own port."""

    def __init__(
        self, stack: _services.Stack, workdir: Path, postgres: str, relayed: tuple[str, Relay]
    ) -> None:
        self.stack, self.workdir = stack, workdir
        self.postgres = postgres
        self.through, self.link = relayed
        """The gateways' database URL, through the relay ``link`` whose link can be cut."""
        self.replica_ports = [_services.free_port() for _ in range(2)]
        self.redis_port = _services.free_port()
        self.replicas: list[_services.Service] = []
        self.redis: _services.Service | None = None
        self.gateways: list[_services.Service] = []
        self.urls: list[str] = []
        self.admin_urls: list[str] = []

    def start_replica(self, i: int) -> None:
        service = _services.echo_on(self.stack, self.replica_ports[i], name=f"replica-{i}")
        if i < len(self.replicas):
            self.replicas[i] = service
        else:
            self.replicas.append(service)

    def signal_replica(self, i: int, sig: signal.Signals) -> None:
        os.killpg(self.replicas[i].proc.pid, sig)
        if sig is signal.SIGKILL:
            self.replicas[i].proc.wait(10)

    def start_redis(self) -> None:
        self.redis = _services.redis_on(self.stack, self.redis_port)

    def stop_redis(self) -> None:
        assert self.redis is not None
        os.killpg(self.redis.proc.pid, signal.SIGKILL)
        self.redis.proc.wait(10)

    def start_gateways(self, *, fail_open: bool) -> None:
        for service in self.gateways:
            os.killpg(service.proc.pid, signal.SIGTERM)
            service.proc.wait(30)
        settings = {
            "database_url": self.through,
            "redis_url": f"redis://127.0.0.1:{self.redis_port}/0",
            "admin_token": ADMIN_TOKEN,
            "key_hash_secret": "bench-key-hash-secret-0123456789",
            "access_log": False,
            "log_level": "warning",
            "migrate_on_start": False,  # migrated directly, before the relay is used
            "limits": {"fail_open": fail_open, **EXTRA_LIMITS},
            "cache": {"enabled": True, "store": "redis", "semantic": False},
            "models": [
                {
                    "name": "echo",
                    "upstreams": [f"http://127.0.0.1:{p}/v1" for p in self.replica_ports],
                }
            ],
        }
        self.gateways, self.urls, self.admin_urls = [], [], []
        for i in range(2):
            port, admin_port = _services.free_port(), _services.free_port()
            config = self.workdir / f"gateway-{i}.yaml"
            config.write_text(yaml.safe_dump({**settings, "port": port, "admin_port": admin_port}))
            argv = [sys.executable, "-m", "llmops.cli", "gateway", "serve", "--config", str(config)]
            service = self.stack.start(f"gateway-{i}", argv)
            url = f"http://127.0.0.1:{port}"
            service.wait_until(functools.partial(_ready, url), timeout=60)
            self.gateways.append(service)
            self.urls.append(url)
            self.admin_urls.append(f"http://127.0.0.1:{admin_port}")

    def new_key(self, team: str) -> str:
        status, body = _services.post_json(
            f"{self.admin_urls[0]}/admin/keys", {"team": team, **LIMITS}, token=ADMIN_TOKEN
        )
        if status != 201:
            raise RuntimeError(f"creating a key failed: {status} {body}")
        key: str = body["key"]
        return key

    def rss_mib(self) -> list[float]:
        out = []
        for service in self.gateways:
            status = Path(f"/proc/{service.proc.pid}/status").read_text()
            kib = next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
            )
            out.append(kib / 1024)
        return out


def _ready(url: str) -> bool:
    return _services.http_get(f"{url}/readyz") == 200
