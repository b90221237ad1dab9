"""Model references as local transformers directories: bundled, local, or registry versions.

A registered version holds a LoRA adapter and names its base (``base`` tag): the
bundled model, a local directory, or another registered version
(``models:/NAME/N``). :func:`materialize` downloads the adapter, builds the base the
same way (recursively), merges the adapter into it and saves the merged weights as
safetensors in ``cache_dir/registry/NAME/N``, written beside its place and renamed
into it, so every engine (the CPU engine, vLLM) loads a plain model directory and a
second load of the same version costs one read.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from llmops.registry.errors import RegistryError, VersionNotFound
from llmops.registry.store import ModelRegistry, VersionInfo
from llmops.serving import weights
from llmops.serving.settings import RegistrySource, parse_source

MAX_LINEAGE = 16


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A reference made concrete: where its weights are, and what lineage to record."""

    path: Path
    base: str
    """The reference to record as a new version's base (aliases resolved to versions)."""
    parent_version: str | None = None
    parent_model: str | None = None


def resolve_version(registry: ModelRegistry, source: RegistrySource) -> VersionInfo:
    """The version an alias points to now, or the version named."""
    if source.version is not None:
        return registry.version(source.name, source.version)
    assert source.alias is not None
    found = registry.by_alias(source.name, source.alias)
    if found is None:
        raise VersionNotFound(f"{source.name!r} has no @{source.alias} version")
    return found


def resolve(
    ref: str, *, cache_dir: Path, registry: ModelRegistry | None, depth: int = 0
) -> ResolvedModel:
    """``ref`` (``bundled:NAME``, a directory, ``models:/NAME@ALIAS`` or ``/N``) on local disk."""
    try:
        source = parse_source(ref)
    except ValueError as e:
        raise RegistryError(f"model reference {ref!r}: {e}") from e
    if not isinstance(source, RegistrySource):
        return ResolvedModel(weights.model_dir(source, cache_dir), _recorded(ref, source))
    if registry is None:
        raise RegistryError(f"{ref} needs an MLflow tracking URI")
    version = resolve_version(registry, source)
    path = materialize(registry, version, cache_dir=cache_dir, depth=depth)
    return ResolvedModel(
        path, f"models:/{version.model}/{version.version}", version.version, version.model
    )


def _recorded(ref: str, source: object) -> str:
    path = getattr(source, "path", None)
    return str(Path(path).resolve()) if isinstance(path, Path) else ref


def version_dir(cache_dir: Path, version: VersionInfo) -> Path:
    return cache_dir / "registry" / version.model / version.version


def materialize(
    registry: ModelRegistry, version: VersionInfo, *, cache_dir: Path, depth: int = 0
) -> Path:
    """A directory holding ``version`` merged into its base (built once, then reused)."""
    target = version_dir(cache_dir, version)
    if weights.is_complete(target):
        return target
    if depth >= MAX_LINEAGE:
        raise RegistryError(f"the lineage of {version.model!r} is deeper than {MAX_LINEAGE}")
    base_ref = version.tags.get("base")
    if not base_ref:
        raise RegistryError(f"version {version.version} of {version.model!r} has no base tag")
    base = resolve(base_ref, cache_dir=cache_dir, registry=registry, depth=depth + 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        adapter = registry.download_adapter(version, scratch / "download")
        merge_adapter(base.path, adapter, scratch / "model")
        try:
            (scratch / "model").rename(target)
        except OSError:
            if not weights.is_complete(target):  # another process merged it first: keep its copy
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def merge_adapter(base_dir: Path, adapter_dir: Path, out_dir: Path) -> None:
    """Save the base model with the LoRA adapter merged into its weights, and its tokenizer."""
    from peft import PeftModel  # noqa: PLC0415 - heavy, only when a version is loaded

    model, tokenizer = weights.load(base_dir, dtype="float32")
    try:
        merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    except (OSError, ValueError) as e:
        raise RegistryError(f"cannot apply the adapter in {adapter_dir} to {base_dir}: {e}") from e
    merged.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
