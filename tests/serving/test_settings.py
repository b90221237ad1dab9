"""Serving settings: model sources, defaults, the environment overlay, errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops import settings as core_settings
from llmops.errors import ConfigError
from llmops.serving.settings import (
    BundledSource,
    LocalSource,
    RegistrySource,
    ServingSettings,
    parse_source,
)


def test_defaults_serve_the_bundled_model_on_the_cpu() -> None:
    settings = ServingSettings()
    assert settings.engine == "cpu"
    assert settings.model_source == BundledSource("smollm2")
    assert settings.cache_dir == Path.home() / ".cache" / "llmops" / "models"
    assert settings.app_name == "SmolLM2-135M-Instruct-v1"


def test_an_embedding_replica_serves_the_bundled_minilm() -> None:
    settings = ServingSettings.model_validate({"task": "embed", "source": "bundled:minilm"})
    assert settings.model_source == BundledSource("minilm")
    assert settings.embedding.max_inputs == 2048


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("bundled:smollm2", BundledSource("smollm2")),
        ("/models/tuned", LocalSource(Path("/models/tuned"))),
        ("models:/support-bot@champion", RegistrySource("support-bot", "champion", None)),
        ("models:/support-bot/3", RegistrySource("support-bot", None, "3")),
    ],
)
def test_sources(text: str, source: object) -> None:
    assert parse_source(text) == source


@pytest.mark.parametrize("text", ["bundled:gpt5", "models:/", "models:/a@b@c", " "])
def test_bad_sources(text: str) -> None:
    with pytest.raises(ValueError, match=r"unknown|registry URI|empty"):
        parse_source(text)


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "serve.yaml"
    path.write_text("model: tiny\nversion: '7'\ncpu: {max_batch_size: 4, threads: 1}\n")
    environ = {"LLMOPS_CPU__MAX_BATCH_SIZE": "16", "LLMOPS_AUTOSCALING__MAX_REPLICAS": "3"}
    loaded = core_settings.load(ServingSettings, path, environ=environ)
    assert loaded.cpu.max_batch_size == 16
    assert loaded.cpu.threads == 1
    assert loaded.autoscaling.max_replicas == 3
    assert loaded.app_name == "tiny-v7"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("engine: tpu\n", "engine"),
        ("source: 'bundled:nope'\n", "unknown bundled model"),
        ("autoscaling: {min_replicas: 3, max_replicas: 2}\n", "min_replicas must not exceed"),
        ("route_prefix: v1\n", "route_prefix"),
        ("cpu: {max_batch_size: 0}\n", "cpu.max_batch_size"),
        ("source: 'bundled:minilm'\n", "serves task 'embed', not 'generate'"),
        ("task: embed\n", "serves task 'generate', not 'embed'"),
        ("task: embed\nsource: 'bundled:minilm'\nengine: vllm\n", "by the cpu engine"),
        ("task: embed\nsource: 'models:/e@champion'\n", "bundled:minilm or a directory"),
        ("embedding: {max_inputs: 4096}\n", "embedding.max_inputs"),
    ],
)
def test_errors_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "serve.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        core_settings.load(ServingSettings, path, environ={})
