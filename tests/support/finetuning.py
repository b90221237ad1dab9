"""Tiny chat datasets for fine-tuning tests, and the ``llmops finetune run`` command line.

The facts are made up, so the bundled model cannot know them: an adapter that
answers them has measurably changed the model's answers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

FACTS = (
    ("What is the codename of project Heron?", "Bluefin"),
    ("What is the codename of project Larch?", "Copperleaf"),
    ("What is the codename of project Wren?", "Saltmarsh"),
    ("What is the codename of project Alder?", "Moonrake"),
)
SYSTEM = "Answer with the codename only."


def conversation(question: str, answer: str) -> dict[str, object]:
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


def write_jsonl(path: Path, rows: Sequence[object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def write_facts(directory: Path) -> tuple[Path, Path]:
    """``train.jsonl`` (every fact twice) and ``eval.jsonl`` (each fact once)."""
    rows = [conversation(q, a) for q, a in FACTS]
    return (
        write_jsonl(directory / "train.jsonl", rows * 2),
        write_jsonl(directory / "eval.jsonl", rows),
    )


def finetune_args(
    train: Path,
    evaluation: Path,
    *,
    register: str,
    output: Path,
    cache_dir: Path,
    tracking_uri: str,
    max_steps: int,
    extra: Sequence[str] = (),
) -> list[str]:
    """The arguments of a quick run: sequence 64, batch 4, a high learning rate."""
    return [
        "finetune", "run", "--base", "bundled:smollm2", "--data", str(train),
        "--eval", str(evaluation), "--register", register, "--output", str(output),
        "--cache-dir", str(cache_dir), "--tracking-uri", tracking_uri,
        "--max-steps", str(max_steps), "--batch-size", "4", "--max-seq-len", "64",
        "--learning-rate", "3e-3", "--lora-r", "8", "--json", *extra,
    ]  # fmt: skip
