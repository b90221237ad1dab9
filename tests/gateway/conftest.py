from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmops.serving.echo import EchoServer
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import new_key


@pytest.fixture
def gateway(echo: EchoServer, sqlite_url: str) -> Iterator[RunningGateway]:
    """A gateway in uvicorn with SQLite keys and in-process limits, in front of the echo replica."""
    settings = settings_for(sqlite_url, {"echo": [echo.url], "other": [echo.url]})
    with gateway_in_thread(settings) as running:
        yield running


@pytest.fixture
def api_key(gateway: RunningGateway) -> str:
    return new_key(gateway.url, "team-a")
