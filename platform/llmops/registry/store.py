"""The MLflow model registry as llmops uses it: versions, their tags, and aliases.

:class:`ModelRegistry` wraps :class:`mlflow.MlflowClient` and translates MLflow's
exceptions into :mod:`llmops.registry.errors` in one place. Versions are plain
:class:`VersionInfo` values, so decisions about them (gates, rollback) need no
server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException

from llmops.registry.errors import RegistryError, RegistryUnavailable, VersionNotFound

T = TypeVar("T")
HISTORY_TAG = "llmops.champion_history"
"""A registered model's tag: the versions that were champion, oldest first (JSON list)."""
HISTORY_LIMIT = 50
DATA_FILES_TAG = "data_files"
"""A version's lineage tag: the names of its training files (JSON list), which erasure
reads to say which versions learned from a forgotten person's data."""
ADAPTER_ARTIFACT = "adapter"


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One registered model version and what the registry knows of it."""

    model: str
    version: str
    run_id: str | None
    tags: Mapping[str, str]
    aliases: tuple[str, ...] = ()
    created_ms: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "version": self.version,
            "run_id": self.run_id,
            "aliases": list(self.aliases),
            "created_ms": self.created_ms,
            "tags": dict(self.tags),
        }


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    aliases: Mapping[str, str]
    """Alias to version."""
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def champion_history(self) -> list[str]:
        try:
            history = json.loads(self.tags.get(HISTORY_TAG, "[]"))
        except ValueError:
            return []
        return [str(v) for v in history] if isinstance(history, list) else []


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """MLflow's exceptions as ours, with ``what`` was being done."""
    try:
        yield
    except RestException as e:
        if e.error_code in {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}:
            raise VersionNotFound(f"{what}: {e.message}") from e
        raise RegistryError(f"{what}: {e.message}") from e
    except MlflowException as e:
        if e.error_code in {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}:
            raise VersionNotFound(f"{what}: {e.message}") from e
        if "API request" in e.message or "Max retries" in e.message:
            raise RegistryUnavailable(
                f"{what}: the MLflow server does not answer ({e.message})"
            ) from e
        raise RegistryError(f"{what}: {e.message}") from e


class ModelRegistry:
    """Registered models, versions and aliases on one MLflow tracking server."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    def call(self, what: str, action: Callable[[], T]) -> T:
        """Run one MLflow call with its errors translated."""
        with _translated(what):
            return action()

    def model(self, name: str) -> ModelInfo:
        with _translated(f"registered model {name!r}"):
            model = self.client.get_registered_model(name)
        return ModelInfo(name, dict(model.aliases or {}), dict(model.tags or {}))

    def ensure_model(self, name: str) -> None:
        with _translated(f"registered model {name!r}"):
            try:
                self.client.get_registered_model(name)
            except MlflowException as e:
                if e.error_code != "RESOURCE_DOES_NOT_EXIST":
                    raise
                self.client.create_registered_model(name)

    def version(self, name: str, version: str) -> VersionInfo:
        with _translated(f"version {version} of {name!r}"):
            mv = self.client.get_model_version(name, version)
        return _info(mv)

    def by_alias(self, name: str, alias: str) -> VersionInfo | None:
        """The version ``alias`` points to, or ``None`` when the alias is not set."""
        if alias not in self.model(name).aliases:
            return None
        with _translated(f"alias @{alias} of {name!r}"):
            mv = self.client.get_model_version_by_alias(name, alias)
        return _info(mv)

    def versions(self, name: str) -> list[VersionInfo]:
        """Every version of ``name``, newest first."""
        self.model(name)  # a clear "not found" for an unknown model
        with _translated(f"versions of {name!r}"):
            found = self.client.search_model_versions(f"name='{_quoted(name)}'")
        infos = [_info(mv) for mv in found]
        return sorted(infos, key=lambda v: int(v.version), reverse=True)

    def trained_on(self, files: Collection[str]) -> list[VersionInfo]:
        """Every version, of any model, whose training files include one of ``files``."""
        wanted = set(files)
        found: list[VersionInfo] = []
        token: str | None = None
        with _translated("searching versions by training data"):
            while True:
                page = self.client.search_model_versions(max_results=1000, page_token=token)
                for mv in page:
                    info = _info(mv)
                    if wanted & set(data_files(info.tags)):
                        found.append(info)
                token = page.token
                if not token:
                    break
        return sorted(found, key=lambda v: (v.model, int(v.version)))

    def register(self, name: str, *, run_id: str, tags: Mapping[str, str]) -> VersionInfo:
        """A new version of ``name`` (created if new) from the adapter the run logged."""
        self.ensure_model(name)
        with _translated(f"registering a version of {name!r}"):
            run = self.client.get_run(run_id)
            mv = self.client.create_model_version(
                name,
                source=f"{run.info.artifact_uri}/{ADAPTER_ARTIFACT}",
                run_id=run_id,
                tags=dict(tags),
            )
        return _info(mv)

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point ``alias`` at ``version``: one registry write, so the alias is never unset."""
        with _translated(f"setting @{alias} of {name!r} to version {version}"):
            self.client.set_registered_model_alias(name, alias, version)

    def delete_alias(self, name: str, alias: str) -> None:
        with _translated(f"removing @{alias} of {name!r}"):
            self.client.delete_registered_model_alias(name, alias)

    def tag_version(self, name: str, version: str, tags: Mapping[str, str]) -> None:
        with _translated(f"tagging version {version} of {name!r}"):
            for key, value in tags.items():
                self.client.set_model_version_tag(name, version, key, value)

    def set_champion_history(self, name: str, history: list[str]) -> None:
        with _translated(f"recording the champion history of {name!r}"):
            self.client.set_registered_model_tag(
                name, HISTORY_TAG, json.dumps(history[-HISTORY_LIMIT:])
            )

    def download_adapter(self, version: VersionInfo, destination: Path) -> Path:
        """The version's adapter files, downloaded into ``destination``."""
        if version.run_id is None:
            raise RegistryError(f"version {version.version} of {version.model!r} has no run")
        destination.mkdir(parents=True, exist_ok=True)
        with _translated(f"downloading the adapter of {version.model!r} v{version.version}"):
            path = self.client.download_artifacts(
                version.run_id, ADAPTER_ARTIFACT, str(destination)
            )
        return Path(path)


def data_files(tags: Mapping[str, str]) -> list[str]:
    try:
        files = json.loads(tags.get(DATA_FILES_TAG, "[]"))
    except ValueError:
        return []
    return [str(f) for f in files] if isinstance(files, list) else []


def _quoted(name: str) -> str:
    return name.replace("'", "\\'")


def _info(mv: object) -> VersionInfo:
    return VersionInfo(
        model=str(getattr(mv, "name", "")),
        version=str(getattr(mv, "version", "")),
        run_id=getattr(mv, "run_id", None) or None,
        tags=dict(getattr(mv, "tags", None) or {}),
        aliases=tuple(getattr(mv, "aliases", None) or ()),
        created_ms=int(getattr(mv, "creation_timestamp", 0) or 0),
    )
