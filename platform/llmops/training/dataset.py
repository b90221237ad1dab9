"""Chat-format JSONL datasets: validated before any compute, hashed for lineage.

Each line is one conversation, ``{"messages": [{"role": ..., "content": ...}, ...]}``,
with roles ``system``, ``user`` and ``assistant``, and an ``assistant`` message last:
the model learns to give that answer (the turns before it are the prompt). Blank
lines are skipped. Every problem found is reported with its file and line number,
up to :data:`~llmops.jsonlines.MAX_REPORTED` of them, before any model is loaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from llmops import jsonlines
from llmops.training.errors import DatasetError

T = TypeVar("T")
ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True, slots=True)
class Conversation:
    """One validated row: the prompt turns and the answer to learn."""

    prompt: tuple[dict[str, str], ...]
    answer: str
    source: str
    """``FILE:LINE``, for messages about this row."""

    @property
    def messages(self) -> list[dict[str, str]]:
        return [*self.prompt, {"role": "assistant", "content": self.answer}]


@dataclass(frozen=True, slots=True)
class Dataset:
    rows: tuple[Conversation, ...]
    sha256: str
    """Of the files' bytes, in the order given: the same files give the same hash."""

    def __len__(self) -> int:
        return len(self.rows)


def _row_problem(value: object) -> str | None:  # noqa: PLR0911 - one return per problem
    """What is wrong with one parsed line, or ``None``."""
    if not isinstance(value, dict) or "messages" not in value:
        return 'expected an object with a "messages" list'
    messages = value["messages"]
    if not isinstance(messages, list) or not messages:
        return '"messages" must be a non-empty list'
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"message {i} is not an object"
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            return f"message {i} has role {role!r}; expected one of {', '.join(sorted(ROLES))}"
        if not isinstance(content, str) or not content.strip():
            return f'message {i} needs a non-empty string "content"'
    if messages[-1]["role"] != "assistant":
        return "the last message must be the assistant's answer"
    if not any(m["role"] == "user" for m in messages[:-1]):
        return "the answer needs a user message before it"
    return None


def _row(value: object, where: str) -> Conversation | str:
    problem = _row_problem(value)
    if problem is not None:
        return problem
    assert isinstance(value, dict)
    messages = [{"role": m["role"], "content": m["content"]} for m in value["messages"]]
    return Conversation(tuple(messages[:-1]), messages[-1]["content"], where)


def read_rows(
    paths: Sequence[Path], parse: Callable[[object, str], T | str], *, title: str, what: str
) -> tuple[tuple[T, ...], str]:
    """The rows of ``paths``, concatenated, and the files' SHA-256; raises
    :class:`DatasetError` listing every problem (``title``), or that there are no ``what``."""
    rows: list[T] = []
    problems: list[str] = []
    digest = hashlib.sha256()
    for path in paths:
        digest.update(jsonlines.read(path, parse, rows, problems))
    if not problems and not rows:
        problems.append(f"{', '.join(str(p) for p in paths)}: no {what}")
    if problems:
        raise DatasetError(jsonlines.report(title, problems))
    return tuple(rows), digest.hexdigest()


def hold_out(rows: tuple[T, ...], share: float, what: str) -> tuple[tuple[T, ...], tuple[T, ...]]:
    """Train and held-out rows when no eval file is given: every n-th row is held out,
    and at least one."""
    if len(rows) < 2:
        raise DatasetError(f"give --eval, or at least 2 {what} to hold one out")
    every = max(2, round(1 / share))
    held = {i for i in range(len(rows)) if i % every == every - 1} or {len(rows) - 1}
    return (
        tuple(r for i, r in enumerate(rows) if i not in held),
        tuple(r for i, r in enumerate(rows) if i in held),
    )


def load(paths: Sequence[Path]) -> Dataset:
    """The conversations of ``paths``, concatenated; raises :class:`DatasetError` listing problems."""
    rows, sha256 = read_rows(paths, _row, title="invalid dataset", what="conversations")
    return Dataset(rows, sha256)


def split_holdout(dataset: Dataset, share: float = 0.1) -> tuple[Dataset, Dataset]:
    """Train and held-out parts when no eval file is given: every n-th row is held out."""
    kept, held = hold_out(dataset.rows, share, "conversations")
    return Dataset(kept, dataset.sha256), Dataset(held, dataset.sha256)
