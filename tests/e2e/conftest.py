"""The laptop stack's pieces the loops' end-to-end tests share: the gateway with a routes
file and a request log, and echo replicas for the champion and the challenger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmops.monitoring.routes import RoutesFile, VersionShare
from llmops.serving.echo import EchoServer
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import chat, new_key

MODEL = "smollm2"


@dataclass
class Stack:
    gateway: RunningGateway
    key: str
    database_url: str
    routes: Path
    champion: EchoServer
    challenger: EchoServer
    workdir: Path

    def send(self, prompts: list[str]) -> list[int]:
        return [
            chat(
                self.gateway.url,
                self.key,
                {"model": MODEL, "messages": [{"role": "user", "content": p}], "max_tokens": 16},
            ).status
            for p in prompts
        ]


@pytest.fixture
def stack(echo: EchoServer, tmp_path: Path) -> Iterator[Stack]:
    challenger = EchoServer(model=MODEL).start_in_thread()
    routes = tmp_path / "routes.yaml"
    RoutesFile(routes).set_versions(MODEL, [VersionShare("champion", 1.0, (echo.url,))])
    database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    settings = settings_for(
        database_url,
        {MODEL: [echo.url]},
        routes_file=str(routes),
        routes_poll_seconds=0.2,
        request_log={"flush_seconds": 0.05},
    )
    try:
        with gateway_in_thread(settings) as gateway:
            yield Stack(
                gateway,
                new_key(gateway.url, "team-a"),
                database_url,
                routes,
                echo,
                challenger,
                tmp_path,
            )
    finally:
        challenger.stop_thread()
