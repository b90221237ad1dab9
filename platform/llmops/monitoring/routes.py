"""The gateway's routes file (contracts: ``{"models": [ModelRoute...]}``), written whole
and atomically; the gateway reloads it within seconds."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class VersionShare:
    version: str
    weight: float
    upstreams: tuple[str, ...]


class RoutesFile:
    """One model's route in the routes file; other models in the file are kept."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"models": []}
        data = yaml.safe_load(self.path.read_text()) or {}
        return data if isinstance(data, dict) else {"models": []}

    def set_versions(self, model: str, versions: list[VersionShare]) -> None:
        data = self.read()
        others = [m for m in data.get("models") or [] if m.get("name") != model]
        route = {
            "name": model,
            "versions": [
                {"version": v.version, "weight": v.weight, "upstreams": list(v.upstreams)}
                for v in versions
            ],
        }
        self._write({"models": [*others, route]})

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".routes-")
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(data, f, sort_keys=False)
        os.replace(tmp, self.path)
