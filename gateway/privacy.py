"""What the gateway keeps about a person, found, exported and erased on request.

A subject is an end user (the name the client gave, found by its keyed hash), a key, or
a team. ``forget`` deletes the subject's request-log rows and writes the erasure to the
audit trail (who, when, which subject, how many rows; never the erased content nor the
user's name); ``export`` returns the rows as they are stored (texts redacted).

Response-cache entries are not erased here: they expire after ``cache.ttl_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.errors import InvalidRequest
from gateway.keys.tables import audit_log
from gateway.subjects import SubjectHasher
from llmops.requestlog.table import RequestRecord, request_log


@dataclass(frozen=True, slots=True)
class SubjectQuery:
    """Exactly one of: an end user's name, a key id, a team."""

    user: str | None = None
    key_id: str | None = None
    team: str | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.user, self.key_id, self.team) if v]
        if len(given) != 1:
            raise InvalidRequest(
                "Name exactly one subject: a user, a key id or a team.", param="subject"
            )


@dataclass(frozen=True, slots=True)
class Erasure:
    subject: str
    """How the audit trail names the subject (a user by its keyed hash)."""
    request_log_rows: int
    dry_run: bool

    def json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "request_log_rows": self.request_log_rows,
            "dry_run": self.dry_run,
        }


class Privacy:
    def __init__(self, engine: AsyncEngine, hasher: SubjectHasher) -> None:
        self._engine = engine
        self._hasher = hasher

    def _target(self, subject: SubjectQuery) -> tuple[str, sa.ColumnElement[bool]]:
        if subject.user:
            digest = self._hasher.user_hash(subject.user.strip())
            return f"user:{digest}", request_log.c.user_hash == digest
        if subject.key_id:
            return f"key:{subject.key_id}", request_log.c.key_id == subject.key_id
        assert subject.team
        return f"team:{subject.team}", request_log.c.team == subject.team

    async def forget(self, subject: SubjectQuery, *, actor: str, dry_run: bool = False) -> Erasure:
        target, where = self._target(subject)
        async with self._engine.begin() as conn:
            if dry_run:
                count = sa.select(sa.func.count()).select_from(request_log).where(where)
                rows = int((await conn.execute(count)).scalar_one())
            else:
                rows = (await conn.execute(sa.delete(request_log).where(where))).rowcount
                await conn.execute(
                    audit_log.insert().values(
                        at=datetime.now(UTC),
                        actor=actor,
                        action="privacy.forget",
                        target=target[:128],
                        details={"request_log_rows": rows},
                    )
                )
        return Erasure(target, rows, dry_run)

    async def export(self, subject: SubjectQuery) -> list[dict[str, Any]]:
        """The subject's request-log rows, oldest first."""
        _, where = self._target(subject)
        query = sa.select(request_log).where(where).order_by(request_log.c.at, request_log.c.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [RequestRecord.from_row(row).row() for row in rows]
