"""Typed settings: a YAML file overlaid with ``LLMOPS_`` environment variables.

Each entry point (a CLI command, a server) builds its settings once with
:func:`load` and passes the object down; nothing deeper reads the environment.

Overrides name a field path with double underscores, case-insensitively:
``LLMOPS_REDIS_URL`` sets ``redis_url`` and ``LLMOPS_LIMITS__DEFAULT_MAX_TOKENS``
sets ``limits.default_max_tokens``. A value is parsed as YAML, so
``LLMOPS_MODELS='[{name: m, upstreams: [http://h/v1]}]'`` sets a list.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from llmops.errors import ConfigError

ENV_PREFIX = "LLMOPS_"
NESTING = "__"

S = TypeVar("S", bound=pydantic.BaseModel)


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping a settings file holds; an empty file is an empty mapping."""
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read settings file {path}: {e.strerror}") from e
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"settings file {path} is not valid YAML: {e}") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"settings file {path} must hold a mapping at the top level")
    return data


def overlay_environment(
    data: dict[str, Any], environ: Mapping[str, str], prefix: str = ENV_PREFIX
) -> dict[str, Any]:
    """A copy of ``data`` with every ``PREFIX*`` variable of ``environ`` applied."""
    merged = dict(data)
    for name in sorted(environ):
        if not name.startswith(prefix) or name == prefix:
            continue
        path = name[len(prefix) :].lower().split(NESTING)
        try:
            value = yaml.safe_load(environ[name])
        except yaml.YAMLError as e:
            raise ConfigError(f"environment variable {name} is not valid YAML: {e}") from e
        node = merged
        for part in path[:-1]:
            child = node.get(part)
            child = dict(child) if isinstance(child, dict) else {}
            node[part] = child
            node = child
        node[path[-1]] = value
    return merged


def load(
    model: type[S],
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    env_prefix: str = ENV_PREFIX,
    label: str = "settings",
) -> S:
    """Build settings of type ``model`` from a file, the environment (variables named
    ``env_prefix...``) and explicit overrides; ``label`` names them in errors.

    Later sources win: file, then environment, then ``overrides`` (command-line flags).
    """
    data = read_yaml(path) if path is not None else {}
    data = overlay_environment(data, os.environ if environ is None else environ, prefix=env_prefix)
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as e:
        where = f" in {path}" if path is not None else ""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in e.errors()
        )
        raise ConfigError(f"invalid {label}{where}: {problems}") from e
