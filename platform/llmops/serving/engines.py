"""The engine a replica's settings ask for (each engine's heavy imports happen only if chosen)."""

from __future__ import annotations

from llmops.serving.embedding import EmbeddingEngine
from llmops.serving.engine import Engine
from llmops.serving.settings import RegistrySource, ServingSettings


def build_engine(settings: ServingSettings) -> Engine | EmbeddingEngine:
    """A new, not yet started engine of the kind ``settings.engine`` and ``task`` name.

    ``task: embed`` gets the CPU embedding engine. A registry source
    (``models:/NAME@ALIAS``) gets its engine wrapped in one that follows the alias from
    version to version.
    """
    if settings.task == "embed":
        from llmops.serving.embedder import CpuEmbeddingEngine  # noqa: PLC0415 - torch, as below

        return CpuEmbeddingEngine(settings)
    source = settings.model_source
    if isinstance(source, RegistrySource):
        from llmops.serving.following import (  # noqa: PLC0415
            AliasFollowingEngine,
            VersionResolver,
        )

        return AliasFollowingEngine(settings, _plain_engine, VersionResolver(source, settings))
    return _plain_engine(settings)


def _plain_engine(settings: ServingSettings) -> Engine:
    if settings.engine == "vllm":
        from llmops.serving.vllm import VllmEngine  # noqa: PLC0415 - keeps torch out of vLLM's way

        return VllmEngine(settings)
    from llmops.serving.cpu import CpuEngine  # noqa: PLC0415 - torch loads only for this engine

    return CpuEngine(settings)
