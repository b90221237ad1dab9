"""Preference pairs in JSONL: validated before any compute, hashed for lineage.

Each line is ``{"prompt": "..."}`` or ``{"messages": [...]}`` (the turns before the
answer), with the ``chosen`` answer and the ``rejected`` one to the same prompt (both
non-empty strings, and different); ``subjects`` (whose data a line holds, read by
erasure) is allowed and ignored. ``llmops feedback pairs`` writes such files from users'
feedback. Every problem is reported with its file and line number, up to
:data:`~llmops.jsonlines.MAX_REPORTED`, before any model loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llmops import jsonlines
from llmops.training.dataset import ROLES, Conversation, hold_out, read_rows


@dataclass(frozen=True, slots=True)
class PreferencePair:
    prompt: tuple[dict[str, str], ...]
    chosen: str
    rejected: str
    source: str
    """``FILE:LINE``."""

    @property
    def as_conversations(self) -> tuple[Conversation, Conversation]:
        """The prompt answered the preferred way, and the other way."""
        return (
            Conversation(self.prompt, self.chosen, self.source),
            Conversation(self.prompt, self.rejected, self.source),
        )


@dataclass(frozen=True, slots=True)
class PreferenceSet:
    pairs: tuple[PreferencePair, ...]
    sha256: str

    def __len__(self) -> int:
        return len(self.pairs)


def _pair(value: object, where: str) -> PreferencePair | str:
    if not isinstance(value, dict):
        return "expected a JSON object"
    unknown = set(value) - {"prompt", "messages", "chosen", "rejected", "id", "subjects"}
    if unknown:
        return f"unknown fields: {', '.join(sorted(unknown))}"
    prompt = jsonlines.prompt_turns(value, roles=ROLES)
    if isinstance(prompt, str):
        return prompt
    answers = []
    for name in ("chosen", "rejected"):
        answer = value.get(name)
        if not isinstance(answer, str) or not answer.strip():
            return f'"{name}" must be a non-empty string'
        answers.append(answer)
    if answers[0].strip() == answers[1].strip():
        return '"chosen" and "rejected" are the same answer'
    return PreferencePair(prompt, answers[0], answers[1], where)


def load(paths: Sequence[Path]) -> PreferenceSet:
    """The pairs of ``paths``, concatenated; raises :class:`DatasetError` listing problems."""
    pairs, sha256 = read_rows(
        paths, _pair, title="invalid preference pairs", what="preference pairs"
    )
    return PreferenceSet(pairs, sha256)


def split_holdout(pairs: PreferenceSet, share: float = 0.1) -> tuple[PreferenceSet, PreferenceSet]:
    """Train and held-out parts when no eval file is given: every n-th pair is held out,
    and at least one."""
    kept, held = hold_out(pairs.pairs, share, "preference pairs")
    return PreferenceSet(kept, pairs.sha256), PreferenceSet(held, pairs.sha256)
