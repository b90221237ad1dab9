"""The drifted window as training data: chat JSONL of the logged (redacted) requests.

Each line names whose request it was (``subjects``: the team, key and end user's keyed
hash, as the request log does), which the fine-tune ignores and erasure reads: a person
forgotten leaves the exported windows too, and the files they were removed from name the
model versions trained on them (their ``data_files`` lineage tag).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmops.files import write_atomically
from llmops.requestlog.table import RequestRecord


def write_window(records: Sequence[RequestRecord], path: Path, max_rows: int) -> int:
    """Rows with both texts, newest first up to ``max_rows``, as ``{"messages": [...]}``
    lines (the fine-tune's format); how many were written."""
    rows = [r for r in records if r.prompt_text and r.completion_text and r.status < 400]
    rows = rows[-max_rows:]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for r in rows:
            messages = [
                {"role": "user", "content": r.prompt_text},
                {"role": "assistant", "content": r.completion_text},
            ]
            f.write(json.dumps({"messages": messages, "subjects": list(r.subjects)}) + "\n")
    return len(rows)


@dataclass(frozen=True, slots=True)
class WindowErasure:
    lines: int
    """Lines of the subject found (and removed, unless counting only)."""
    files: tuple[str, ...]
    """The names of the files that held them."""


def forget(directories: Iterable[Path], subject: str, *, dry_run: bool = False) -> WindowErasure:
    """Remove the lines of ``subject`` (a tag as
    :func:`~llmops.requestlog.table.subject_tags` writes it) from the
    JSONL files under ``directories``; each file is replaced whole, never half written."""
    lines = 0
    files: list[str] = []
    for directory in directories:
        for path in sorted(Path(directory).rglob("*.jsonl")):
            found = _forget_in(path, subject, dry_run)
            if found:
                lines += found
                files.append(path.name)
    return WindowErasure(lines, tuple(files))


def _forget_in(path: Path, subject: str, dry_run: bool) -> int:
    kept: list[bytes] = []
    found = 0
    with path.open("rb") as f:
        for line in f:
            if _holds(line, subject):
                found += 1
            else:
                kept.append(line)
    if found and not dry_run:
        write_atomically(path, b"".join(kept))
    return found


def _holds(line: bytes, subject: str) -> bool:
    written = (subject.encode(), json.dumps(subject).encode()[1:-1])  # as is, or escaped
    if not any(w in line for w in written):  # most lines: no parse
        return False
    try:
        row = json.loads(line)
    except ValueError:
        return False
    return isinstance(row, dict) and subject in (row.get("subjects") or ())
