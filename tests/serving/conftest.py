"""The serving tests' shared model: SmolLM2 converted once per session, one engine for all.

Converting the bundled GGUF file takes about 20 seconds, so it happens once, into a
session directory (the user's own cache is left alone); every engine and replica of
the session then loads the converted weights in about a second. Embedding replicas
serve the bundled MiniLM, which needs no conversion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmops.serving.cpu import CpuEngine
from llmops.serving.openai_api import create_app
from llmops.serving.settings import ServingSettings
from tests.support.asgi import uvicorn_in_thread

# Requests submitted together wait up to this long for each other (generous: CI is slow).
BATCH_WAIT_MS = 50


@pytest.fixture(scope="session")
def serving_settings(model_cache: Path) -> ServingSettings:
    return ServingSettings.model_validate(
        {"cache_dir": model_cache, "cpu": {"max_batch_size": 8, "batch_wait_ms": BATCH_WAIT_MS}}
    )


@pytest.fixture(scope="session")
def embedding_settings() -> ServingSettings:
    """An embedding replica of the bundled MiniLM, with small batches (so requests share them)."""
    return ServingSettings.model_validate(
        {
            "task": "embed",
            "model": "all-MiniLM-L6-v2",
            "source": "bundled:minilm",
            "embedding": {"batch_size": 16},
        }
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
