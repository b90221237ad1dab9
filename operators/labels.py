"""Our labels and the names of the objects we create (deterministic, so a restarted
operator finds what it made instead of making it twice)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

GROUP = "llmops.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
MANAGER = "llmops-operator"
FINALIZER = f"{GROUP}/cleanup"

MANAGED_BY = "app.kubernetes.io/managed-by"
PART_OF = "app.kubernetes.io/part-of"
COMPONENT = "app.kubernetes.io/component"
OWNER_KIND = f"{GROUP}/owner-kind"
OWNER_NAME = f"{GROUP}/owner-name"
NODE_POOL = f"{GROUP}/node-pool"
ATTEMPT = f"{GROUP}/attempt"
CREATED_BY_MONITOR = f"{GROUP}/drift-monitor"
EPISODE = f"{GROUP}/drift-episode"
QUEUE_NAME = "kueue.x-k8s.io/queue-name"
PRIORITY_CLASS = "kueue.x-k8s.io/priority-class"

SELECTOR = f"{MANAGED_BY}={MANAGER}"
"""Label selector of everything this operator created."""


def ours(owner_kind: str, owner_name: str, component: str, **extra: str) -> dict[str, str]:
    return {
        MANAGED_BY: MANAGER,
        PART_OF: "llmops",
        COMPONENT: component,
        OWNER_KIND: owner_kind,
        OWNER_NAME: owner_name,
        **extra,
    }


def owner_reference(body: Mapping[str, Any]) -> dict[str, Any]:
    """A controller owner reference to ``body`` (deleting it deletes what it owns)."""
    meta = body["metadata"]
    return {
        "apiVersion": body.get("apiVersion", API_VERSION),
        "kind": body["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def child_name(owner: str, suffix: str, limit: int = 63) -> str:
    """``owner-suffix`` as a DNS-1123 label; long names keep a hash to stay unique."""
    name = re.sub(r"[^a-z0-9-]", "-", f"{owner}-{suffix}".lower()).strip("-")
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"
