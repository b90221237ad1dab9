"""Reads the request log the gateway writes (same database, no gateway import)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from llmops.monitoring.errors import RequestLogUnavailable
from llmops.requestlog.table import RequestRecord, request_log

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def engine_for(database_url: str) -> AsyncEngine:
    """An async engine for ``sqlite://`` or ``postgresql://`` URLs."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise RequestLogUnavailable(
            f"unsupported database {backend!r}: use sqlite:// or postgresql://"
        )
    if backend == "sqlite" and url.database and not Path(url.database).exists():
        raise RequestLogUnavailable(f"no request log at {url.database}: is the gateway running?")
    return create_async_engine(url.set(drivername=_ASYNC_DRIVERS[backend]))


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time range ``[start, end)``."""

    start: datetime
    end: datetime

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M:%S}..{self.end:%H:%M:%S}"


@dataclass(frozen=True, slots=True)
class VersionTraffic:
    """What one model version did in a window (a canary's figures are made of it)."""

    rows: list[RequestRecord]
    """The requests it answered."""
    failed: int
    """Its tries that failed and that the gateway then retried on another replica."""


class RequestLogReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @property
    def engine(self) -> AsyncEngine:
        """The request log's database (the feedback table is beside it)."""
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    async def window(
        self,
        model: str,
        window: Window,
        *,
        version: str | None = None,
        limit: int = 20000,
        shadow: bool = False,
        spread: bool = False,
    ) -> list[RequestRecord]:
        """A model's requests in ``window``, newest last: the answers users got, or
        (``shadow``) the answers shadow versions gave to mirrored ones. At most ``limit`` of
        them: the latest, or (``spread``) drawn at random across the whole window."""
        t = request_log
        query = (
            sa.select(*(t.c[f] for f in RequestRecord.__dataclass_fields__))
            .where(
                t.c.model == model,
                t.c.at >= window.start,
                t.c.at < window.end,
                t.c.shadow.is_(shadow),
            )
            .order_by(sa.func.random() if spread else t.c.at.desc())
            .limit(limit)
        )
        if version is not None:
            query = query.where(t.c.model_version == version)
        try:
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        except (SQLAlchemyError, OSError) as e:
            raise RequestLogUnavailable(f"cannot read the request log: {e}") from e
        records = [RequestRecord.from_row(r) for r in rows]
        return sorted(records, key=lambda r: r.at) if spread else records[::-1]

    async def by_version(
        self, model: str, window: Window, versions: Sequence[str]
    ) -> dict[str, VersionTraffic]:
        """Each version's requests in ``window``, and its tries the gateway retried
        elsewhere (the failed attempts are read once for all of them)."""
        failed = await self.failed_attempts(window)
        return {
            v: VersionTraffic(await self.window(model, window, version=v), failed[model, v])
            for v in versions
        }

    async def failed_attempts(self, window: Window) -> Counter[tuple[str, str]]:
        """How many times each ``(model, version)`` failed a request in ``window`` that the
        gateway then retried elsewhere (those rows name the version that answered)."""
        t = request_log
        query = sa.select(t.c.failed_attempts).where(
            t.c.at >= window.start, t.c.at < window.end, t.c.failed_attempts.is_not(None)
        )
        try:
            async with self._engine.connect() as conn:
                lists = (await conn.scalars(query)).all()
        except (SQLAlchemyError, OSError) as e:
            raise RequestLogUnavailable(f"cannot read the request log: {e}") from e
        return Counter((m, v) for attempts in lists for m, v in attempts or ())
