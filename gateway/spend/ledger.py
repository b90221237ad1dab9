"""The spend table: each replica adds what its requests cost, per quarter hour, team,
key, model and version.

Requests are summed in memory and added to the table every ``flush_seconds`` in one
upsert (a sum per row, so replicas never overwrite each other). Sums that could not be
written stay in memory and go with the next flush, the last one at shutdown: a database
outage delays spend, it loses none (unless the process dies meanwhile). Each request is
counted in the quarter hour it started in, as its budget was. The table holds no text and no end
user: erasing a person's data leaves what their team spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.keys.tables import api_keys, spend
from gateway.supervision import Supervisor
from gateway.usage import Usage

log = logging.getLogger("llmops.gateway.spend")

BUCKET = dt.timedelta(minutes=15)
SUMS = ("requests", "prompt_tokens", "cached_tokens", "completion_tokens", "cost_nanos")


def bucket_of(at: dt.datetime) -> dt.datetime:
    """The quarter hour (UTC) holding ``at``."""
    at = at.astimezone(dt.UTC)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Row:
    bucket: dt.datetime
    team: str
    key_id: str
    model: str
    version: str
    lineage: str
    """Not stored (the key's row says it): lets this replica count its pending spend."""


class SpendLedger:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        flush_seconds: float,
        registry: CollectorRegistry | None = None,
        supervisor: Supervisor | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._engine = engine
        self._flush_seconds = flush_seconds
        self._timeout = timeout_seconds
        self._supervisor = supervisor or Supervisor()
        self._pending: dict[Row, list[int]] = {}
        self._writing: dict[Row, list[int]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._failed = Counter(
            "llmops_gateway_spend_flush_failures_total",
            "Flushes of the spend table that failed (their sums are kept and tried again).",
            registry=registry,
        )

    def add(
        self,
        *,
        at: dt.datetime,
        team: str,
        key_id: str,
        lineage: str,
        model: str,
        version: str,
        usage: Usage | None,
        cost: int,
    ) -> None:
        """Count one request (never blocks, never raises)."""
        row = Row(bucket_of(at), team, key_id, model, version, lineage)
        sums = self._pending.get(row)
        if sums is None:
            sums = self._pending[row] = [0, 0, 0, 0, 0]
        sums[0] += 1
        if usage is not None:
            sums[1] += usage.prompt
            sums[2] += usage.cached
            sums[3] += usage.completion
        sums[4] += cost

    def start(self) -> None:
        self._task = self._supervisor.spawn("spend ledger", self._loop)

    async def close(self) -> None:
        """Stop, and write what is pending (waiting at most the write timeout)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if not await self.flush() and self._pending:
            log.error("spend: %d sums could not be written at shutdown", len(self._pending))

    async def flush(self) -> bool:
        """Write the pending sums; ``False`` (sums kept for the next try) when it failed."""
        async with self._lock:
            if not self._pending:
                return True
            self._writing, self._pending = self._pending, {}
            try:
                async with asyncio.timeout(self._timeout):
                    await self._upsert(self._writing)
            except (SQLAlchemyError, OSError, TimeoutError) as e:
                self._failed.inc()
                log.warning("spend: flush failed, kept for the next one: %s", type(e).__name__)
                _merge(self._pending, self._writing)
                return False
            except asyncio.CancelledError:
                # Stopped mid-write (shutdown): the sums are kept for the last flush; were
                # they committed already, they would count twice, which is the lesser harm.
                _merge(self._pending, self._writing)
                raise
            finally:
                self._writing = {}
            return True

    async def spent(self, *, team: str, lineage: str | None, since: dt.datetime) -> int:
        """What the team (or a key lineage of it) spent since ``since``: the table, and what
        this replica has not written yet."""
        if lineage is None:
            query = sa.select(sa.func.coalesce(sa.func.sum(spend.c.cost_nanos), 0)).where(
                spend.c.team == team, spend.c.bucket >= since
            )
        else:
            keys = sa.select(api_keys.c.id).where(
                sa.or_(api_keys.c.id == lineage, api_keys.c.lineage == lineage)
            )
            query = sa.select(sa.func.coalesce(sa.func.sum(spend.c.cost_nanos), 0)).where(
                spend.c.team == team, spend.c.bucket >= since, spend.c.key_id.in_(keys)
            )
        # What this replica holds is read before the table: a batch written meanwhile is
        # then counted twice at worst (more spent than was), never missed.
        unwritten = 0
        for pending in (self._pending, self._writing):
            for row, sums in pending.items():
                mine = lineage is None or row.lineage == lineage
                if mine and row.team == team and row.bucket >= since:
                    unwritten += sums[4]
        async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
            stored = int((await conn.execute(query)).scalar() or 0)
        return stored + unwritten

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            await self.flush()

    async def _upsert(self, sums: dict[Row, list[int]]) -> None:
        rows = [
            {
                "bucket": row.bucket,
                "team": row.team,
                "key_id": row.key_id,
                "model": row.model,
                "version": row.version,
                **dict(zip(SUMS, values, strict=True)),
            }
            for row, values in sums.items()
        ]
        async with self._engine.begin() as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            statement = insert(spend)
            statement = statement.on_conflict_do_update(
                index_elements=[c.name for c in spend.primary_key.columns],
                set_={name: spend.c[name] + statement.excluded[name] for name in SUMS},
            )
            await conn.execute(statement, rows)


def _merge(into: dict[Row, list[int]], sums: dict[Row, list[int]]) -> None:
    for row, values in sums.items():
        have = into.get(row)
        if have is None:
            into[row] = list(values)
        else:
            for i, v in enumerate(values):
                have[i] += v
