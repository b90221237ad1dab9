"""Our custom resources checked against the CRDs' OpenAPI schemas, offline.

The API server does this on every write; this lets CI (``llmops operator validate``)
and the tests check manifests without a cluster. OpenAPI v3's schema dialect is JSON
Schema draft 4 (boolean ``exclusiveMinimum``); ``x-kubernetes-*`` extensions and CEL
rules are left to the API server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRD_DIR = Path(__file__).resolve().parent.parent / "helm" / "llmops" / "crds"


@cache
def _schemas(crd_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) to the version's openAPIV3Schema."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        spec = crd["spec"]
        for version in spec["versions"]:
            key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
            found[key] = version["schema"]["openAPIV3Schema"]
    return found


def _where(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def problems(resource: Mapping[str, Any], crd_dir: Path = CRD_DIR) -> list[str]:
    """What is wrong with ``resource`` (empty when it is valid), each naming its field."""
    key = (str(resource.get("apiVersion")), str(resource.get("kind")))
    schema = _schemas(crd_dir).get(key)
    if schema is None:
        known = ", ".join(f"{v} {k}" for v, k in sorted(_schemas(crd_dir)))
        return [f"unknown resource {key[0]} {key[1]} (known: {known})"]
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(dict(resource)), key=lambda e: list(e.absolute_path))
    return [f"{_where(e.absolute_path)}: {e.message}" for e in errors]
