"""Routes from a file the operator writes (the ``llmops-routes`` ConfigMap), reloaded
while the gateway runs.

:func:`read` parses and validates a file; :class:`RouteTable` swaps the models'
pools in place (a replica that stays keeps its circuit breaker and in-flight count,
and requests in flight keep the pool and replica they picked, so a reload drops none);
:class:`RoutesWatcher` polls the file's content and applies each new valid version,
keeping the last good routes when a version is invalid.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pydantic
import yaml

from gateway import tokens
from gateway.routing.pools import ModelPool, Replica, pools_from
from gateway.settings import CircuitSettings, ModelRoute, check_models
from gateway.supervision import Supervisor

log = logging.getLogger("llmops.gateway.routes")


class RoutesFileError(Exception):
    """A routes file that cannot be read or is not valid (the message says where)."""


class RoutesDocument(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    models: list[ModelRoute] = pydantic.Field(default_factory=list)


def parse(text: str, source: str) -> list[ModelRoute]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RoutesFileError(f"{source} is not valid YAML: {e}") from e
    try:
        return list(RoutesDocument.model_validate(data or {}).models)
    except pydantic.ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in e.errors()
        )
        raise RoutesFileError(f"{source} is not a valid routes file: {problems}") from e


def read_bytes(path: Path) -> bytes:
    """The file's content; a missing file (no routes published yet) reads as empty."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
    except OSError as e:
        raise RoutesFileError(f"cannot read routes file {path}: {e.strerror}") from e


def merge(configured: Sequence[ModelRoute], from_file: Sequence[ModelRoute]) -> list[ModelRoute]:
    """The configured models with the file's over them (same name: the file wins)."""
    names = {m.name for m in from_file}
    merged = [m for m in configured if m.name not in names] + list(from_file)
    try:
        return check_models(merged)
    except ValueError as e:
        raise RoutesFileError(str(e)) from e


def load_counters(
    models: Sequence[ModelRoute], loaded: Mapping[str, tokens.TokenCounter]
) -> dict[str, tokens.TokenCounter]:
    """Counters for the models whose tokenizer is not ``loaded`` yet (blocking: reads the
    files, so call it off the event loop). A tokenizer that cannot be loaded never holds
    routes back: its model's tokens are estimated (or counted with the tokenizer it had),
    and the file's next version tries again."""
    fresh: dict[str, tokens.TokenCounter] = {}
    for model in models:
        if model.tokenizer is None:
            continue
        have = loaded.get(model.name)
        if isinstance(have, tokens.TokenizerCounter) and have.path == model.tokenizer:
            continue
        try:
            fresh[model.name] = tokens.TokenizerCounter(model.tokenizer)
        except Exception as e:  # noqa: BLE001 (tokenizers raises plain Exception)
            log.warning(
                "model %r: cannot load tokenizer %s (%s); its tokens are %s",
                model.name,
                model.tokenizer,
                e,
                "counted with the previous one" if have is not None else "estimated",
            )
    return fresh


class RouteTable:
    """The live pools (the dict the proxy reads) and the token counters of each model."""

    def __init__(
        self,
        pools: dict[str, ModelPool],
        counters: dict[str, tokens.TokenCounter],
        circuit: CircuitSettings,
    ) -> None:
        self.pools = pools
        self.counters = counters
        self._circuit = circuit

    def replicas(self) -> list[Replica]:
        return [r for p in list(self.pools.values()) for r in p.replicas]

    def apply(
        self, models: Sequence[ModelRoute], counters: Mapping[str, tokens.TokenCounter]
    ) -> None:
        """Swap in ``models`` with the ``counters`` loaded for them (:func:`load_counters`):
        one step, no await, so no request sees half a change."""
        fresh = pools_from(models, self._circuit)
        for name, pool in fresh.items():
            old = self.pools.get(name)
            kept = {r.url: r for r in old.replicas} if old is not None else {}
            for version in pool.versions:
                version.replicas = [kept.get(r.url, r) for r in version.replicas]
            if old is not None:
                _keep_shadow(old, pool)
        for name in [n for n in self.pools if n not in fresh]:
            del self.pools[name]
        self.pools.update(fresh)
        for name in [n for n in self.counters if n not in fresh]:
            del self.counters[name]
        self.counters.update(counters)


def _keep_shadow(old: ModelPool, fresh: ModelPool) -> None:
    """Keep the old shadow (whose in-flight count the mirrored requests still decrement)
    when the new file names the same one, with the new settings."""
    was, now = old.shadow, fresh.shadow
    if was is None or now is None or (was.version, was.urls) != (now.version, now.urls):
        return
    was.share, was.max_in_flight = now.share, now.max_in_flight
    was.timeout_seconds = now.timeout_seconds
    fresh.shadow = was


class RoutesWatcher:
    """Polls a routes file and applies each new valid content to a :class:`RouteTable`."""

    def __init__(
        self,
        path: Path,
        table: RouteTable,
        configured: Sequence[ModelRoute],
        *,
        interval_seconds: float,
        on_reload: Callable[[bool], None] = lambda ok: None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self._supervisor = supervisor or Supervisor()
        self._path = path
        self._table = table
        self._configured = list(configured)
        self._interval = interval_seconds
        self._on_reload = on_reload
        self._digest: str | None = None
        self._rejected: str | None = None
        self._task: asyncio.Task[None] | None = None

    def _prepare(
        self,
    ) -> tuple[list[ModelRoute], dict[str, tokens.TokenCounter], str] | None:
        """The merged routes and the token counters they need when the file changed and
        is valid (``None`` otherwise)."""
        digest = None
        try:
            raw = read_bytes(self._path)
            digest = hashlib.sha256(raw).hexdigest()
            if digest in (self._digest, self._rejected):
                return None
            routes = parse(raw.decode("utf-8", errors="replace"), str(self._path))
            merged = merge(self._configured, routes)
            return merged, load_counters(merged, self._table.counters), digest
        except RoutesFileError as e:
            problem = str(e)
        self._rejected = digest  # reported once per bad version, not at every poll
        log.error("routes file rejected, keeping the last good routes: %s", problem)
        self._on_reload(False)
        return None

    def _commit(
        self, merged: list[ModelRoute], counters: dict[str, tokens.TokenCounter], digest: str
    ) -> None:
        self._table.apply(merged, counters)
        self._digest = digest
        self._on_reload(True)
        log.info(
            "routes loaded from %s: %s", self._path, ", ".join(m.name for m in merged) or "none"
        )

    def load(self) -> bool:
        """Read the file now; apply it if it changed and is valid. True when applied."""
        prepared = self._prepare()
        if prepared is not None:
            self._commit(*prepared)
        return prepared is not None

    def start(self) -> None:
        self._task = self._supervisor.spawn("routes watcher", self._run)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            # Read off the loop (a slow volume never stalls requests); swap on it.
            prepared = await asyncio.to_thread(self._prepare)
            if prepared is not None:
                self._commit(*prepared)
