"""The gateway's routes file (contracts: ``{"models": [ModelRoute...]}``), written whole
and atomically; the gateway reloads it within seconds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmops.files import write_atomically


@dataclass(frozen=True, slots=True)
class VersionShare:
    version: str
    weight: float
    upstreams: tuple[str, ...]


class RoutesFile:
    """One model's route in the routes file; other models in the file are kept, and so
    are the route's other fields (a shadow, team pins of versions it still has)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"models": []}
        data = yaml.safe_load(self.path.read_text()) or {}
        return data if isinstance(data, dict) else {"models": []}

    def _route(self, model: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        models = self.read().get("models") or []
        others = [m for m in models if m.get("name") != model]
        found = next((m for m in models if m.get("name") == model), None)
        return others, dict(found) if isinstance(found, dict) else {"name": model}

    def set_versions(self, model: str, versions: list[VersionShare]) -> None:
        others, route = self._route(model)
        for short in ("upstreams", "version"):
            route.pop(short, None)
        route["versions"] = [
            {"version": v.version, "weight": v.weight, "upstreams": list(v.upstreams)}
            for v in versions
        ]
        names = {v.version for v in versions}
        pins = {t: v for t, v in (route.get("teams") or {}).items() if v in names}
        if pins:
            route["teams"] = pins
        else:
            route.pop("teams", None)
        self._write({"models": [*others, {"name": model, **route}]})

    def set_shadow(
        self, model: str, version: str, upstreams: tuple[str, ...], share: float
    ) -> None:
        """Mirror ``share`` of the model's requests to ``version`` on ``upstreams``."""
        others, route = self._route(model)
        route["shadow"] = {"version": version, "upstreams": list(upstreams), "share": share}
        self._write({"models": [*others, {"name": model, **route}]})

    def clear_shadow(self, model: str) -> None:
        others, route = self._route(model)
        if route.pop("shadow", None) is not None:
            self._write({"models": [*others, {"name": model, **route}]})

    def _write(self, data: dict[str, Any]) -> None:
        write_atomically(self.path, yaml.safe_dump(data, sort_keys=False).encode())
