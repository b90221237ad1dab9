"""Registered versions made quickly: a run with a small stand-in adapter and metric tags.

Promotion and rollback read tags and move aliases; they never load the adapter, so
these versions skip training (the fine-tuning tests register real ones).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from llmops.registry.store import ModelRegistry
from llmops.registry.tracking import RunLog

Register = Callable[..., str]


@pytest.fixture
def model_name() -> str:
    return f"bot-{secrets.token_hex(3)}"


def register_version(registry: ModelRegistry, name: str, workdir: Path, **metrics: float) -> str:
    """A new version of ``name`` tagged with ``metrics``; its number."""
    run = RunLog.start(registry, name, run_name="stand-in", tags={})
    adapter = workdir / f"adapter-{secrets.token_hex(3)}"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    run.log_adapter(adapter)
    run.finish()
    tags = {k: repr(v) for k, v in metrics.items()}
    return registry.register(name, run_id=run.run_id, tags={**tags, "run_id": run.run_id}).version


@pytest.fixture
def register(mlflow_url: str, model_name: str, tmp_path: Path) -> Register:
    registry = ModelRegistry(mlflow_url)

    def make(**metrics: float) -> str:
        return register_version(registry, model_name, tmp_path, **metrics)

    return make
