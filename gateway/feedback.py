"""``POST /v1/feedback``: what a user says of an answer, kept beside the request log.

The body names the answer by its request id (``x-llmops-request-id``, or the answer's
``id``), with a ``score`` (``"up"``/``"down"``, or 1 to 5), and optionally a
``comment`` and a ``correction`` (the answer the user wanted). An id that was not
minted for the caller's team is answered as unknown, so a team never learns of
another's requests. Comments and corrections are redacted like the request log's texts
before anything is stored; the row carries the same subject (key, end user's keyed
hash) as the request, so ``llmops privacy forget`` erases both. The model and version
come from the request's log row when it is written already (rows are written each
second), else they stay empty and are joined later by request id.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import pydantic
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.errors import InvalidRequest, NotFound
from gateway.keys.store import Principal
from gateway.metrics import GatewayMetrics
from gateway.requestids import RequestIds
from gateway.subjects import SubjectHasher
from llmops.requestlog.redaction import Redactor
from llmops.requestlog.table import feedback, request_log

MAX_COMMENT_CHARS = 4000
MAX_CORRECTION_CHARS = 32000
UNKNOWN = "unknown"
"""The model and version label of feedback whose request is not in the log yet."""


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str = Field(min_length=1, max_length=64)
    score: Literal["up", "down"] | int
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
    correction: str | None = Field(default=None, max_length=MAX_CORRECTION_CHARS)
    user: str | None = Field(default=None, max_length=256)
    """The end user who gave it (hashed, as in requests), when not the request's own."""

    @pydantic.field_validator("score")
    @classmethod
    def _in_range(cls, score: str | int) -> str | int:
        if isinstance(score, int) and not 1 <= score <= 5:
            raise ValueError("a numeric score is 1 to 5")
        return score

    @property
    def label(self) -> str:
        return str(self.score)

    @property
    def value(self) -> float:
        """The score on 0..1: down 0, up 1; 1 to 5 as 0, 0.25, ... 1."""
        if self.score == "up":
            return 1.0
        if self.score == "down":
            return 0.0
        assert isinstance(self.score, int)
        return (self.score - 1) / 4


def parse(body: bytes) -> FeedbackBody:
    """The request's body, or an OpenAI-style 400 naming the bad field."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("The body is not valid JSON.") from None
    try:
        return FeedbackBody.model_validate(data)
    except pydantic.ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise InvalidRequest(f"{field or 'body'}: {first['msg']}", param=field) from None


class FeedbackStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ids: RequestIds,
        redactor: Redactor,
        subjects: SubjectHasher,
        metrics: GatewayMetrics,
    ) -> None:
        self._engine = engine
        self._ids = ids
        self._redactor = redactor
        self._subjects = subjects
        self._metrics = metrics

    def _redacted(self, body: FeedbackBody) -> tuple[str | None, str | None, int]:
        texts: list[str | None] = []
        spans = 0
        for text in (body.comment, body.correction):
            if text is None:
                texts.append(None)
                continue
            redacted = self._redactor.redact(text.replace("\0", ""))
            texts.append(redacted.text)
            spans += redacted.spans
        return texts[0], texts[1], spans

    async def submit(self, principal: Principal, body: FeedbackBody) -> dict[str, Any]:
        if not self._ids.belongs_to(body.request_id, principal.team):
            raise NotFound(
                "No request with this id was made by your team.",
                param="request_id",
                code="request_not_found",
            )
        comment, correction, spans = await asyncio.to_thread(self._redacted, body)
        found = sa.select(
            request_log.c.model, request_log.c.model_version, request_log.c.user_hash
        ).where(request_log.c.request_id == body.request_id, request_log.c.team == principal.team)
        async with self._engine.begin() as conn:
            row = (await conn.execute(found.limit(1))).first()
            user_hash = (
                self._subjects.user_hash(body.user) if body.user else (row and row.user_hash)
            )
            inserted = await conn.execute(
                feedback.insert().values(
                    at=datetime.now(UTC),
                    request_id=body.request_id,
                    team=principal.team,
                    key_id=principal.key_id,
                    user_hash=user_hash,
                    model=row.model if row else None,
                    model_version=row.model_version if row else None,
                    score=body.label,
                    value=body.value,
                    comment=comment,
                    correction=correction,
                    redactions=spans,
                )
            )
        model = row.model if row else UNKNOWN
        version = (row.model_version if row else None) or UNKNOWN
        self._metrics.feedback.labels(model, version, body.label).inc()
        return {
            "object": "feedback",
            "id": f"fb-{_key(inserted)}",
            "request_id": body.request_id,
            "score": body.score,
            "model": row.model if row else None,
            "model_version": row.model_version if row else None,
            "redactions": spans,
        }


def _key(result: sa.CursorResult[Any]) -> object:
    key = result.inserted_primary_key
    return key[0] if key else None
