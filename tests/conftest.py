"""Fixtures shared by every test: real servers, started once per session where they are slow."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import configuration

from llmops.cli.main import cli
from llmops.serving import weights
from llmops.serving.cpu import CpuEngine
from llmops.serving.echo import EchoBehaviour, EchoRecord, EchoServer
from llmops.serving.openai_api import create_app
from llmops.serving.settings import BundledSource, ServingSettings
from tests.support import finetuning, services
from tests.support.asgi import uvicorn_in_thread
from tests.support.mlflow import mlflow_server

_HYPOTHESIS_HOME = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis (schemathesis generates with it) keeps what it caches, from test
    collection on, in a directory of its own for the session, not in the checkout."""
    home = Path(tempfile.mkdtemp(prefix="hypothesis-"))
    config.stash[_HYPOTHESIS_HOME] = home
    configuration.set_hypothesis_home_dir(home)


def pytest_unconfigure(config: pytest.Config) -> None:
    configuration.set_hypothesis_home_dir(None)
    if _HYPOTHESIS_HOME in config.stash:
        shutil.rmtree(config.stash[_HYPOTHESIS_HOME], ignore_errors=True)


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


@pytest.fixture(scope="session")
def mlflow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MLflow tracking server (SQLite backend, proxied artifacts) for the session."""
    workdir = tmp_path_factory.mktemp("mlflow")
    with mlflow_server(f"sqlite:///{workdir / 'mlflow.db'}", workdir) as url:
        yield url


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory holding the bundled SmolLM2 converted once for the session (~20 s)."""
    cache = tmp_path_factory.mktemp("models")
    weights.model_dir(BundledSource("smollm2"), cache)
    return cache


@pytest.fixture(scope="session")
def finetuned(
    mlflow_url: str, model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A real LoRA run on the bundled model (a dozen steps), registered as ``facts`` v1.

    The ``--json`` answer of ``llmops finetune run``, with the data files added
    under ``train`` and ``eval``.
    """
    workdir = tmp_path_factory.mktemp("finetune")
    train, evaluation = finetuning.write_facts(workdir)
    args = finetuning.finetune_args(
        train,
        evaluation,
        register="facts",
        output=workdir / "out",
        cache_dir=model_cache,
        tracking_uri=mlflow_url,
        max_steps=12,
    )
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = orjson.loads(result.stdout)
    return {**answer, "train": train, "eval": evaluation, "output": workdir / "out"}


# Requests submitted together to the session's engine wait up to this long for each other
# (generous: CI is slow).
BATCH_WAIT_MS = 50


@pytest.fixture(scope="session")
def serving_settings(model_cache: Path) -> ServingSettings:
    return ServingSettings.model_validate(
        {"cache_dir": model_cache, "cpu": {"max_batch_size": 8, "batch_wait_ms": BATCH_WAIT_MS}}
    )


@pytest.fixture(scope="session")
def cpu_engine(serving_settings: ServingSettings) -> Iterator[CpuEngine]:
    """One started CPU engine for the session (its decode thread serves any event loop)."""
    engine = CpuEngine(serving_settings)
    asyncio.run(engine.start())
    yield engine
    asyncio.run(engine.close())


@pytest.fixture(scope="session")
def replica_url(cpu_engine: CpuEngine) -> Iterator[str]:
    """The OpenAI app over the session's engine, in uvicorn in a thread; its base URL (no /v1)."""
    app = create_app(cpu_engine, manage_engine=False)
    with uvicorn_in_thread(app, name="replica") as url:
        yield url
