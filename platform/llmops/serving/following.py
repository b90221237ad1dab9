"""An engine that serves whatever version a registry alias points to, and follows it.

:class:`AliasFollowingEngine` wraps an ordinary engine (CPU or vLLM). At start it
resolves ``models:/NAME@ALIAS`` (or a fixed ``models:/NAME/N``) to a version,
materializes it (base weights with the LoRA adapter merged, cached on disk) and
starts an engine on it. Then it polls the alias every ``mlflow.poll_seconds``;
when the alias moves it loads the new version beside the old one, and once it is
ready switches new requests to it in one assignment. Requests already running
finish on the engine they started on; the old engine closes when its last request
ends. No request is refused or cut during the switch; memory briefly holds both
versions. A failed poll or load keeps the current version serving (and is logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llmops.serving.engine import Engine, EngineStats, GenerationEvent, GenerationRequest
from llmops.serving.errors import EngineUnavailable, ModelLoadError
from llmops.serving.settings import RegistrySource, ServingSettings

if TYPE_CHECKING:
    from llmops.registry.store import ModelRegistry

log = logging.getLogger(__name__)

EngineFactory = Callable[[ServingSettings], Engine]


class VersionResolver:
    """Asks the registry which version the source names, and where its merged weights are."""

    def __init__(self, source: RegistrySource, settings: ServingSettings) -> None:
        if not settings.mlflow.tracking_uri:
            raise ModelLoadError(
                f"models:/{source.name} needs the registry: set mlflow.tracking_uri "
                "(LLMOPS_MLFLOW__TRACKING_URI)"
            )
        self.source = source
        self.cache_dir = settings.cache_dir
        self.tracking_uri = settings.mlflow.tracking_uri
        self._registry: ModelRegistry | None = None

    def registry(self) -> ModelRegistry:
        """One client for every poll (made on first use: MLflow only for registry sources)."""
        if self._registry is None:
            from llmops.registry.store import ModelRegistry  # noqa: PLC0415

            self._registry = ModelRegistry(self.tracking_uri)
        return self._registry

    def current(self) -> str:
        """The version the alias points to now (blocking: call it off the event loop)."""
        from llmops.registry import materialize  # noqa: PLC0415
        from llmops.registry.errors import RegistryError  # noqa: PLC0415

        try:
            found = materialize.resolve_version(self.registry(), self.source)
        except RegistryError as e:
            raise ModelLoadError(str(e)) from e
        return found.version

    def weights(self, version: str) -> Path:
        """The merged weights of ``version`` on local disk (blocking)."""
        from llmops.registry import materialize  # noqa: PLC0415
        from llmops.registry.errors import RegistryError  # noqa: PLC0415

        registry = self.registry()
        try:
            info = registry.version(self.source.name, version)
            return materialize.materialize(registry, info, cache_dir=self.cache_dir)
        except RegistryError as e:
            raise ModelLoadError(str(e)) from e


@dataclass(slots=True, eq=False)
class _Loaded:
    engine: Engine
    in_flight: int = 0
    retired: bool = False


class AliasFollowingEngine:
    """An :class:`Engine` over the version a registry alias names; see the module's documentation."""

    def __init__(
        self, settings: ServingSettings, build: EngineFactory, resolver: VersionResolver
    ) -> None:
        self._settings = settings
        self._build = build
        self._resolver = resolver
        self._current: _Loaded | None = None
        self._retiring: set[_Loaded] = set()
        self._poller: asyncio.Task[None] | None = None
        self.switches = 0
        self.poll_failures = 0

    @property
    def model(self) -> str:
        return self._settings.model

    @property
    def version(self) -> str:
        return self._current.engine.version if self._current else self._settings.version

    async def start(self) -> None:
        if self._current is not None:
            return
        version = await asyncio.to_thread(self._resolver.current)
        self._current = await self._load(version)
        if self._resolver.source.alias is not None:
            self._poller = asyncio.create_task(self._follow(), name="alias-follower")

    async def _load(self, version: str) -> _Loaded:
        path = await asyncio.to_thread(self._resolver.weights, version)
        engine = self._build(
            self._settings.model_copy(update={"source": str(path), "version": version})
        )
        await engine.start()
        return _Loaded(engine)

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self._settings.mlflow.poll_seconds)
            try:
                await self.refresh()
            except ModelLoadError as e:
                self.poll_failures += 1
                log.warning("keeping version %s: %s", self.version, e)

    async def refresh(self) -> bool:
        """Switch to the alias's version if it moved; whether it switched."""
        version = await asyncio.to_thread(self._resolver.current)
        if self._current is not None and version == self._current.engine.version:
            return False
        log.info("%s: loading version %s", self.model, version)
        loaded = await self._load(version)
        old, self._current = self._current, loaded  # new requests go to the new version from here
        self.switches += 1
        if old is not None:
            old.retired = True
            self._retiring.add(old)
            if old.in_flight == 0:
                await self._close(old)
        log.info("%s: serving version %s", self.model, version)
        return True

    async def _close(self, loaded: _Loaded) -> None:
        self._retiring.discard(loaded)
        await loaded.engine.close()

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationEvent]:
        loaded = self._current
        if loaded is None:
            raise EngineUnavailable("the engine is not started")
        loaded.in_flight += 1
        try:
            async for event in loaded.engine.generate(request):
                yield event
        finally:
            loaded.in_flight -= 1
            if loaded.retired and loaded.in_flight == 0 and loaded in self._retiring:
                await self._close(loaded)

    async def check_health(self) -> None:
        if self._current is None:
            raise EngineUnavailable("the engine is not started")
        await self._current.engine.check_health()

    def stats(self) -> EngineStats:
        return self._current.engine.stats() if self._current else EngineStats()

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        for loaded in [*self._retiring, *([self._current] if self._current else [])]:
            await self._close(loaded)
        self._current = None
