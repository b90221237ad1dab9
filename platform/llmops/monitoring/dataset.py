"""The drifted window as training data: chat JSONL of the logged (redacted) requests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

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
            f.write(json.dumps({"messages": messages}) + "\n")
    return len(rows)
