"""Fixtures shared by every test: real servers, started once per session where they are slow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmops.serving.echo import EchoBehaviour, EchoRecord, EchoServer
from tests.support import services


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with services.redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with services.postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def echo_server() -> Iterator[EchoServer]:
    """The shared fake OpenAI-compatible replica (JSON, streams, errors on demand)."""
    server = EchoServer(model="echo").start_in_thread()
    yield server
    server.stop_thread()


@pytest.fixture
def echo(echo_server: EchoServer) -> EchoServer:
    """The replica with default behaviour and an empty record, for one test."""
    echo_server.behaviour = EchoBehaviour()
    echo_server.record = EchoRecord()
    return echo_server


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"
