"""Status conditions (``Ready``, ``Progressing``, ``Degraded``) with reasons."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(kind: str, ok: bool, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": kind, "status": "True" if ok else "False", "reason": reason, "message": message}


def merge(
    previous: Sequence[Mapping[str, Any]] | None,
    updates: Sequence[dict[str, Any]],
    *,
    generation: int | None = None,
    at: str | None = None,
) -> list[dict[str, Any]]:
    """``previous`` with ``updates`` applied; a condition keeps its transition time while
    its status does not change."""
    stamp = at or now()
    old = {c["type"]: c for c in previous or []}
    merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in old.items()}
    for update in updates:
        before = old.get(update["type"])
        changed = before is None or before.get("status") != update["status"]
        entry = {**update, "lastTransitionTime": stamp if changed else before["lastTransitionTime"]}  # type: ignore[index]
        if generation is not None:
            entry["observedGeneration"] = generation
        merged[update["type"]] = entry
    order = ["Ready", "Progressing", "Degraded"]
    return sorted(
        merged.values(), key=lambda c: order.index(c["type"]) if c["type"] in order else 9
    )


def for_phase(phase: str, reason: str, message: str = "") -> list[dict[str, Any]]:
    """The three conditions that a phase implies."""
    ready = phase in ("Ready", "Succeeded")
    progressing = phase in ("Pending", "Queued", "Running", "Retrying", "Deploying")
    degraded = phase in ("Failed", "Retrying")
    return [
        condition("Ready", ready, reason, message),
        condition("Progressing", progressing, reason, message),
        condition("Degraded", degraded, reason, message),
    ]
