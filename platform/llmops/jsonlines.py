"""JSONL files read for their rows, each bad line named with its file and line number.

Training data, preference pairs and evaluation datasets are all read this way: every
problem is collected (not only the first), and reported together, up to
:data:`MAX_REPORTED` of them, before anything slow happens.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
MAX_REPORTED = 20


def read(
    path: Path, parse: Callable[[object, str], T | str], rows: list[T], problems: list[str]
) -> bytes:
    """Append the rows of ``path`` to ``rows`` and its problems to ``problems``; the
    file's bytes (for a checksum; empty when it cannot be read)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        problems.append(f"{path}: cannot read: {e.strerror}")
        return b""
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            value = json.loads(raw)
        except ValueError as e:  # UnicodeDecodeError included
            problems.append(f"{where}: not valid JSON ({e})")
            continue
        parsed = parse(value, where)
        if isinstance(parsed, str):
            problems.append(f"{where}: {parsed}")
        else:
            rows.append(parsed)
    return data


def report(title: str, problems: list[str]) -> str:
    """``title (N problems):`` and the first :data:`MAX_REPORTED` of them, one a line."""
    shown = problems[:MAX_REPORTED]
    more = len(problems) - len(shown)
    tail = f"\n  ... and {more} more" if more else ""
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    return f"{title} ({count}):\n  " + "\n  ".join(shown) + tail


def prompt_turns(  # noqa: PLR0911 - one return per problem
    value: dict[str, object], *, roles: Collection[str], blank_content: bool = False
) -> tuple[dict[str, str], ...] | str:
    """A line's prompt as chat turns, from exactly one of ``"prompt"`` (a string) or
    ``"messages"`` (the turns before the answer, each with a role among ``roles``), or
    what is wrong with it."""
    if ("prompt" in value) == ("messages" in value):
        return 'needs exactly one of "prompt" (a string) or "messages" (a list)'
    if "prompt" in value:
        prompt = value["prompt"]
        if not isinstance(prompt, str) or not prompt.strip():
            return '"prompt" must be a non-empty string'
        return ({"role": "user", "content": prompt},)
    messages = value["messages"]
    if not isinstance(messages, list) or not messages:
        return '"messages" must be a non-empty list'
    turns = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in roles:
            return f"message {i} needs a role among {', '.join(sorted(roles))}"
        content = m.get("content")
        if not isinstance(content, str) or not (blank_content or content.strip()):
            kind = "string" if blank_content else "non-empty string"
            return f'message {i} needs a {kind} "content"'
        turns.append({"role": str(m["role"]), "content": content})
    if turns[-1]["role"] == "assistant":
        return "the last message is the assistant's: give the turns before the answer"
    return tuple(turns)
