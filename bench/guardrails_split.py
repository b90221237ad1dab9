"""Split the labeled guardrail sets into a tuning half and a sealed evaluation half, once,
before any rule or threshold is tuned: stratified by label, kind and language, each line
sent to a half by a hash of its id (no choice of ours decides where a line goes). The
evaluation halves' checksums are written beside them.

    python bench/guardrails_split.py
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
SETS: dict[str, Callable[[dict[str, Any]], tuple[object, ...]]] = {
    "guardrails_injection": lambda r: (r["label"], r["kind"], r["lang"]),
    "guardrails_output": lambda r: (bool(r["spans"]), r["lang"]),
}


def split(name: str) -> None:
    rows = [json.loads(line) for line in (DATA / f"{name}.jsonl").read_text().splitlines() if line]
    groups: dict[tuple[object, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[SETS[name](row)].append(row)
    halves: dict[str, list[dict[str, Any]]] = {"tune": [], "eval": []}
    for members in groups.values():
        members.sort(key=lambda r: hashlib.sha256(str(r["id"]).encode()).hexdigest())
        for i, row in enumerate(members):
            halves["tune" if i % 2 == 0 else "eval"].append(row)
    for half, members in halves.items():
        members.sort(key=lambda r: str(r["id"]))
        path = DATA / f"{name}_{half}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in members))
        print(f"{path.name}: {len(members)} lines")
    sealed = DATA / f"{name}_eval.jsonl"
    digest = hashlib.sha256(sealed.read_bytes()).hexdigest()
    (DATA / f"{name}_eval.sha256").write_text(f"{digest}  bench/data/{sealed.name}\n")


if __name__ == "__main__":
    for set_name in SETS:
        split(set_name)
