"""Preference pairs from users' feedback: the DPO recipe's training data.

Two kinds of pair, both from answers whose texts the request log kept (sampled,
redacted):

* a *correction*: the answer the user wrote is chosen, the model's answer rejected;
* *scores*: for one model and one prompt, an answer scored well (at least ``good``,
  on 0..1: thumbs up, 4 or 5 stars) is chosen over one scored poorly (at most ``bad``).

Each line names whose data it holds (``subjects``, as exported drift windows do), so a
person forgotten leaves these files too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from llmops.requestlog.table import feedback, request_log, subject_tags

GOOD, BAD = 0.75, 0.25
_ANSWERED = sa.and_(
    request_log.c.request_id == feedback.c.request_id,
    request_log.c.team == feedback.c.team,
    request_log.c.shadow.is_(False),
)
"""Feedback's request: the row of the answer the user saw (never a shadow's)."""


@dataclass(frozen=True, slots=True)
class Rated:
    """One piece of feedback with the answer it is about."""

    model: str
    prompt: str
    completion: str
    value: float
    correction: str | None
    subjects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PairsWritten:
    pairs: int
    from_corrections: int
    from_scores: int
    feedback: int
    """Feedback items read (with their answers' texts kept)."""
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "from_corrections": self.from_corrections,
            "from_scores": self.from_scores,
            "feedback": self.feedback,
            "sha256": self.sha256,
        }


async def rated(
    engine: AsyncEngine, *, model: str | None = None, since: datetime | None = None
) -> list[Rated]:
    """Feedback joined with its request's texts, oldest first."""
    query = (
        sa.select(
            request_log.c.model,
            request_log.c.prompt_text,
            request_log.c.completion_text,
            feedback.c.value,
            feedback.c.correction,
            feedback.c.team,
            feedback.c.key_id,
            feedback.c.user_hash,
            request_log.c.key_id.label("request_key"),
            request_log.c.user_hash.label("request_user"),
        )
        .join(request_log, _ANSWERED)
        .where(request_log.c.prompt_text.is_not(None), request_log.c.completion_text.is_not(None))
        .order_by(feedback.c.at, feedback.c.id)
    )
    if model is not None:
        query = query.where(request_log.c.model == model)
    if since is not None:
        query = query.where(feedback.c.at >= since)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        Rated(
            model=r.model,
            prompt=r.prompt_text,
            completion=r.completion_text,
            value=r.value,
            correction=r.correction,
            subjects=tuple(
                dict.fromkeys(
                    subject_tags(r.team, r.key_id, r.user_hash)
                    + subject_tags(r.team, r.request_key, r.request_user)
                )
            ),
        )
        for r in rows
    ]


def pairs(
    items: Sequence[Rated], *, good: float = GOOD, bad: float = BAD
) -> tuple[list[dict[str, Any]], int]:
    """The pairs ``items`` give, as JSONL objects, and how many came from corrections."""
    out: list[dict[str, Any]] = []
    for item in items:
        if item.correction and item.correction.strip() != item.completion.strip():
            out.append(_line(item.prompt, item.correction, item.completion, item.subjects))
    corrections = len(out)
    by_prompt: dict[tuple[str, str], list[Rated]] = defaultdict(list)
    for item in items:
        by_prompt[(item.model, item.prompt)].append(item)
    for same in by_prompt.values():
        liked = [i for i in same if i.value >= good]
        disliked = [i for i in same if i.value <= bad]
        for k, worse in enumerate(disliked):
            if not liked:
                break
            better = liked[k % len(liked)]
            if better.completion.strip() != worse.completion.strip():
                subjects = tuple(dict.fromkeys(better.subjects + worse.subjects))
                out.append(_line(better.prompt, better.completion, worse.completion, subjects))
    return out, corrections


def _line(prompt: str, chosen: str, rejected: str, subjects: tuple[str, ...]) -> dict[str, Any]:
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected, "subjects": list(subjects)}


async def count_since(engine: AsyncEngine, model: str, since: datetime | None) -> int:
    """Feedback given on ``model``'s answers since ``since`` (all, when ``None``)."""
    query = (
        sa.select(sa.func.count())
        .select_from(feedback)
        .join(request_log, _ANSWERED)
        .where(request_log.c.model == model)
    )
    if since is not None:
        query = query.where(feedback.c.at >= since)
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def write_pairs(
    engine: AsyncEngine,
    path: Path,
    *,
    model: str | None = None,
    since: datetime | None = None,
) -> PairsWritten:
    items = await rated(engine, model=model, since=since)
    lines, corrections = pairs(items)
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    await asyncio.to_thread(_write, path, data)
    return PairsWritten(
        len(lines),
        corrections,
        len(lines) - corrections,
        len(items),
        hashlib.sha256(data).hexdigest(),
    )


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
