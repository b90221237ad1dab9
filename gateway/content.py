"""A message's content as text, and the same content with its text rewritten: OpenAI
content is a string or a list of parts, of which ``text`` parts hold text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def text_of(content: Any) -> str | None:
    """The text of a message's content: the string, or its text parts joined by spaces."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        return " ".join(p for p in parts if isinstance(p, str)) or None
    return None


def texts_of(content: Any) -> list[str]:
    """Each text of a message's content, one per text part."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        ]
    return []


def rewritten(content: Any, rewrite: Callable[[str], str]) -> Any:
    """``content`` with each of its texts replaced by ``rewrite(text)`` (other parts, and
    content that holds no text, unchanged)."""
    if isinstance(content, str):
        return rewrite(content)
    if isinstance(content, list):
        return [
            {**p, "text": rewrite(p["text"])}
            if isinstance(p, dict) and isinstance(p.get("text"), str)
            else p
            for p in content
        ]
    return content
