"""The gateway as its users meet it: in uvicorn, in a thread or in its own process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.app import create_app
from gateway.cache.embedding import Embedder
from gateway.server import listening
from gateway.settings import GatewaySettings
from tests.support.asgi import uvicorn_in_thread
from tests.support.services import free_port, wait_for_port

ADMIN_TOKEN = "test-admin-token-0123456789"


def settings_for(
    database_url: str, upstreams: dict[str, list[str]], **extra: Any
) -> GatewaySettings:
    data: dict[str, Any] = {
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "key_hash_secret": "test-key-hash-secret-0123456789",
        "access_log": False,
        "models": [{"name": name, "upstreams": urls} for name, urls in upstreams.items()],
        **extra,
    }
    return GatewaySettings.model_validate(data)


@dataclass
class RunningGateway:
    url: str
    """Base URL of the gateway (no ``/v1``)."""
    settings: GatewaySettings

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"


@contextlib.contextmanager
def gateway_in_thread(
    settings: GatewaySettings, *, embedder: Embedder | None = None
) -> Iterator[RunningGateway]:
    app = create_app(settings, embedder=embedder)
    sockets = None
    if settings.admin_port is not None:  # both listeners, as `llmops gateway serve` opens them
        sockets = [listening("127.0.0.1", p) for p in (settings.port, settings.admin_port)]
    with uvicorn_in_thread(
        app, name="gateway", sockets=sockets, loop="asyncio", http="httptools"
    ) as url:
        yield RunningGateway(url=url, settings=settings)


@contextlib.contextmanager
def gateway_process(settings: GatewaySettings, workdir: Path) -> Iterator[RunningGateway]:
    """``llmops gateway serve`` in its own process, configured through a YAML file."""
    port = free_port()
    config = workdir / f"gateway-{port}.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json", exclude_none=True)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMOPS_")}
    log = (workdir / f"gateway-{port}.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmops.cli",
            "gateway",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=workdir,
    )
    try:
        wait_for_port(port, timeout=30)
        yield RunningGateway(url=f"http://127.0.0.1:{port}", settings=settings)
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
