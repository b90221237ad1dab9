"""OpenAI's error body, the one shape every error answer of ours takes (replicas and gateway)."""

from __future__ import annotations

from typing import Any


def error_body(
    message: str, *, type: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """``{"error": {"message", "type", "param", "code"}}``, as OpenAI's clients parse it."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}
