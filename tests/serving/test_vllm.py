"""The vLLM engine's pure parts, which need no GPU and no vLLM installed."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from llmops.serving.engine import GenerationRequest
from llmops.serving.errors import EngineUnavailable, ModelLoadError
from llmops.serving.settings import ServingSettings
from llmops.serving.vllm import VllmEngine, engine_args, finish_reason


def test_engine_args_from_settings() -> None:
    settings = ServingSettings.model_validate(
        {
            "engine": "vllm",
            "model": "support-bot",
            "max_model_len": 4096,
            "vllm": {
                "tensor_parallel_size": 2,
                "gpu_memory_utilization": 0.8,
                "dtype": "bfloat16",
                "max_num_seqs": 64,
                "enable_lora": True,
                "max_lora_rank": 8,
            },
        }
    )
    assert engine_args(settings, "/models/bot") == {
        "model": "/models/bot",
        "served_model_name": ["support-bot"],
        "tensor_parallel_size": 2,
        "gpu_memory_utilization": 0.8,
        "dtype": "bfloat16",
        "enforce_eager": False,
        "enable_lora": True,
        "max_model_len": 4096,
        "max_num_seqs": 64,
        "max_loras": 1,
        "max_lora_rank": 8,
    }


def test_defaults_leave_the_rest_to_vllm() -> None:
    args = engine_args(ServingSettings(engine="vllm"), "/m")
    assert "max_model_len" not in args
    assert "max_loras" not in args
    assert args["tensor_parallel_size"] == 1


@pytest.mark.parametrize(
    ("reason", "ours"), [("length", "length"), ("stop", "stop"), (None, "stop")]
)
def test_finish_reasons(reason: str | None, ours: str) -> None:
    assert finish_reason(reason) == ours


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_without_vllm_start_says_what_to_install() -> None:
    engine = VllmEngine(ServingSettings(engine="vllm"))
    with pytest.raises(ModelLoadError, match=r"llmops\[vllm\]"):
        asyncio.run(engine.start())


async def test_an_engine_not_started_is_unavailable() -> None:
    engine = VllmEngine(ServingSettings(engine="vllm"))
    with pytest.raises(EngineUnavailable):
        await engine.check_health()
    with pytest.raises(EngineUnavailable):
        await anext(engine.generate(GenerationRequest(prompt="hi")))
