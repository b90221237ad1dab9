"""What a child Job or RayJob's status says about a FineTuneJob: pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import orjson


class ChildState(StrEnum):
    SUSPENDED = "suspended"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _condition(status: Mapping[str, Any], kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True" for c in status.get("conditions") or []
    )


def child_state(child: Mapping[str, Any]) -> ChildState:
    spec = child.get("spec") or {}
    status = child.get("status") or {}
    if child.get("kind") == "RayJob":
        job_status = status.get("jobStatus")
        if job_status == "SUCCEEDED":
            return ChildState.SUCCEEDED
        if job_status in ("FAILED", "STOPPED") or status.get("jobDeploymentStatus") == "Failed":
            return ChildState.FAILED
    else:
        if _condition(status, "Complete") or int(status.get("succeeded") or 0) > 0:
            return ChildState.SUCCEEDED
        if _condition(status, "Failed") or int(status.get("failed") or 0) > 0:
            return ChildState.FAILED
    if spec.get("suspend"):
        return ChildState.SUSPENDED
    return ChildState.RUNNING


def termination_result(pod: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON object a pod's container left as its termination message, if any."""
    for container in (pod.get("status") or {}).get("containerStatuses") or []:
        message = ((container.get("state") or {}).get("terminated") or {}).get("message")
        if not message:
            continue
        try:
            value = orjson.loads(message)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def backoff_seconds(base: int, attempt: int, cap: int = 3600) -> int:
    """Wait before attempt ``attempt + 1``: doubling from ``base``."""
    return int(min(cap, base * 2 ** max(0, attempt - 1)))
