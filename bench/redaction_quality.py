"""How much the request log's redactor removes, and what it wrongly alters.

Reads labeled messages (``bench/data/redaction_secrets.jsonl``, sealed: its checksum is in
``redaction_secrets.sha256``): each message lists the secrets it holds (exact substrings:
API keys, tokens, JWTs, private keys, passwords) and decoys (look-alike strings that must
stay: order and tracking numbers, commit SHAs, UUIDs, hashes, placeholders). A secret is
caught when no part of it of 8 characters or more survives redaction (the whole of a
shorter one); a decoy is altered when it no longer appears verbatim.

Prints recall and the share of decoys altered, each with its 95% Wilson interval,
overall and per language, and messages per second on one core.

    .venv/bin/python bench/redaction_quality.py
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench._stats import wilson
from llmops.requestlog.redaction import PiiRedactor

DATA = Path(__file__).parent / "data"
SET = DATA / "redaction_secrets.jsonl"


def load() -> list[dict[str, Any]]:
    expected = (DATA / "redaction_secrets.sha256").read_text().split()[0]
    if hashlib.sha256(SET.read_bytes()).hexdigest() != expected:
        raise SystemExit(f"{SET} does not match its sealed checksum")
    return [json.loads(line) for line in SET.read_text().splitlines() if line.strip()]


def caught(secret: str, redacted: str) -> bool:
    if len(secret) < 8:
        return secret not in redacted
    return not any(secret[i : i + 8] in redacted for i in range(len(secret) - 7))


def line(name: str, hit: int, n: int, what: str) -> str:
    low, high = wilson(hit, n)
    return (
        f"  {name:<10} {what} {hit / n if n else 0:6.1%} [{low:5.1%}, {high:6.1%}]  ({hit} of {n})"
    )


def main() -> None:
    messages = load()
    redactor = PiiRedactor()
    started = time.process_time()
    outputs = [redactor.redact(m["text"]).text for m in messages]
    cpu = time.process_time() - started
    print(f"{len(messages)} messages, {len(messages) / cpu:.0f} per second on one core")
    for lang in [None, *sorted({m["lang"] for m in messages})]:
        chosen = [i for i, m in enumerate(messages) if lang is None or m["lang"] == lang]
        secrets = [(s, outputs[i]) for i in chosen for s in messages[i]["secrets"]]
        decoys = [(d, outputs[i]) for i in chosen for d in messages[i]["decoys"]]
        name = lang or "all"
        print(line(name, sum(caught(s, o) for s, o in secrets), len(secrets), "secrets caught "))
        print(line(name, sum(d not in o for d, o in decoys), len(decoys), "decoys altered "))


if __name__ == "__main__":
    main()
