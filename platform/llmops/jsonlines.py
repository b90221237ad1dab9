"""JSONL files read for their rows, each bad line named with its file and line number.

Training data, preference pairs and evaluation datasets are all read this way: every
problem is collected (not only the first), and reported together, up to
:data:`MAX_REPORTED` of them, before anything slow happens.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
