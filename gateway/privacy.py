"""What the platform keeps about a person, found, exported and erased on request.

A subject is an end user (the name the client gave, found by its keyed hash), a key, or
a team. ``forget`` deletes the subject's request-log rows (those still queued in this
replica included), its response-cache entries
(when a cache is given: in Redis, every replica misses them at once) and its lines in
exported retraining windows (the directories given); it lists, without touching them,
the registered model versions trained on the files those lines were in (when a lineage
lookup is given). The erasure goes to the audit trail: who, when, which subject, the
counts; never the erased content nor the user's name. ``export`` returns the rows as
they are stored (texts redacted).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.errors import InvalidRequest
from gateway.keys.tables import audit_log
from gateway.subjects import SubjectHasher
from llmops.monitoring import dataset
from llmops.requestlog.table import RequestRecord, feedback, request_log

Lineage = Callable[[Sequence[str]], list[dict[str, Any]]]
"""The model versions (``model``, ``version``, ``data_files``) trained on any of the named
files; blocking (it runs in a thread)."""


def registry_lineage(tracking_uri: str) -> Lineage:
    """The lineage lookup of the MLflow registry at ``tracking_uri`` (imported when used)."""

    def trained_on(files: Sequence[str]) -> list[dict[str, Any]]:
        from llmops.registry.store import ModelRegistry, data_files  # noqa: PLC0415 - MLflow

        return [
            {
                "model": v.model,
                "version": v.version,
                "aliases": list(v.aliases),
                "data_files": [f for f in data_files(v.tags) if f in files],
            }
            for v in ModelRegistry(tracking_uri).trained_on(files)
        ]

    return trained_on


class Eraser(Protocol):
    """Where else a subject's data waits: the response cache, rows queued for the log."""

    async def forget(self, subject: str, *, dry_run: bool = False) -> int: ...


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
    feedback_rows: int
    cache_entries: int | None
    """None: no cache was reachable from here."""
    window_lines: int
    window_files: tuple[str, ...]
    model_versions: tuple[dict[str, Any], ...] | None
    """Versions trained on those files (kept: retraining is someone's decision); None when
    no registry was asked."""
    dry_run: bool

    def json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "request_log_rows": self.request_log_rows,
            "feedback_rows": self.feedback_rows,
            "cache_entries": self.cache_entries,
            "window_lines": self.window_lines,
            "window_files": list(self.window_files),
            "model_versions": None if self.model_versions is None else list(self.model_versions),
            "dry_run": self.dry_run,
        }


class Privacy:
    def __init__(
        self,
        engine: AsyncEngine,
        hasher: SubjectHasher,
        *,
        cache: Eraser | None = None,
        queued: Eraser | None = None,
        windows: Sequence[Path] = (),
        lineage: Lineage | None = None,
    ) -> None:
        self._engine = engine
        self._hasher = hasher
        self._cache = cache
        self._queued = queued
        self._windows = tuple(windows)
        self._lineage = lineage

    def _target(self, subject: SubjectQuery) -> tuple[str, str, str]:
        """How erasure names the subject, and the column and value that find its rows
        (the request log and feedback tables name subjects alike)."""
        if subject.user:
            digest = self._hasher.user_hash(subject.user.strip())
            return f"user:{digest}", "user_hash", digest
        if subject.key_id:
            return f"key:{subject.key_id}", "key_id", subject.key_id
        assert subject.team
        return f"team:{subject.team}", "team", subject.team

    @staticmethod
    async def _rows(
        conn: AsyncConnection, table: sa.Table, where: sa.ColumnElement[bool], *, dry_run: bool
    ) -> int:
        if dry_run:
            count = sa.select(sa.func.count()).select_from(table).where(where)
            return int((await conn.execute(count)).scalar_one())
        return int((await conn.execute(sa.delete(table).where(where))).rowcount)

    async def forget(self, subject: SubjectQuery, *, actor: str, dry_run: bool = False) -> Erasure:
        target, column, value = self._target(subject)
        queued = 0
        if self._queued is not None:
            queued = await self._queued.forget(target, dry_run=dry_run)
        cache = None
        if self._cache is not None:
            cache = await self._cache.forget(target, dry_run=dry_run)
        windows = await asyncio.to_thread(dataset.forget, self._windows, target, dry_run=dry_run)
        versions = None
        if self._lineage is not None:
            found = await asyncio.to_thread(self._lineage, windows.files) if windows.files else []
            versions = tuple(found)
        async with self._engine.begin() as conn:
            where = request_log.c[column] == value
            rows = queued + await self._rows(conn, request_log, where, dry_run=dry_run)
            said = await self._rows(conn, feedback, feedback.c[column] == value, dry_run=dry_run)
            erasure = Erasure(
                target, rows, said, cache, windows.lines, windows.files, versions, dry_run
            )
            if not dry_run:
                details = erasure.json()
                del details["subject"], details["dry_run"]
                await conn.execute(
                    audit_log.insert().values(
                        at=datetime.now(UTC),
                        actor=actor,
                        action="privacy.forget",
                        target=target[:128],
                        details=details,
                    )
                )
        return erasure

    async def export(self, subject: SubjectQuery) -> list[dict[str, Any]]:
        """The subject's request-log rows, oldest first, each with the feedback given on its
        answer (``feedback``); feedback whose request row is gone (pruned) follows, as rows
        of its own with ``"object": "feedback"``."""
        _, column, value = self._target(subject)
        query = (
            sa.select(request_log)
            .where(request_log.c[column] == value)
            .order_by(request_log.c.at, request_log.c.id)
        )
        said = (
            sa.select(feedback)
            .where(feedback.c[column] == value)
            .order_by(feedback.c.at, feedback.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            given = [dict(row._mapping) for row in (await conn.execute(said)).all()]
        out = []
        by_request: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for item in given:
            item.pop("id", None)
            by_request.setdefault((item["request_id"], item["team"]), []).append(item)
        for row in rows:
            data = RequestRecord.from_row(row).row()
            key = (str(data.get("request_id")), str(data["team"]))
            data["feedback"] = by_request.pop(key, []) if data.get("request_id") else []
            out.append(data)
        out.extend(
            {"object": "feedback", **item} for items in by_request.values() for item in items
        )
        return out
