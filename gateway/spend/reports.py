"""Spend reports from the spend table: one team's spend over a time range, by model, by
key or by day (in the budgets' time zone), with totals. Both SQLite and PostgreSQL give
the same figures: the sums are whole numbers, grouped in SQL, and days are folded here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.errors import InvalidRequest
from gateway.keys.tables import spend
from gateway.spend import money
from gateway.spend.ledger import BUCKET, SUMS, bucket_of

MAX_RANGE = dt.timedelta(days=400)
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2200, 12, 31)


class GroupBy(StrEnum):
    MODEL = "model"
    KEY = "key"
    DAY = "day"


@dataclass(slots=True)
class Line:
    group: str
    requests: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    cost_nanos: int = 0

    def add(self, values: Any) -> None:
        self.requests += int(values.requests)
        self.prompt_tokens += int(values.prompt_tokens)
        self.cached_tokens += int(values.cached_tokens)
        self.completion_tokens += int(values.completion_tokens)
        self.cost_nanos += int(values.cost_nanos)

    def json(self, by: GroupBy) -> dict[str, Any]:
        return {
            by.value: self.group,
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "completion_tokens": self.completion_tokens,
            "cost": money.text(self.cost_nanos),
        }


@dataclass(slots=True)
class Report:
    team: str
    key_id: str | None
    since: dt.datetime
    until: dt.datetime
    by: GroupBy
    currency: str
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> Line:
        total = Line("total")
        for line in self.lines:
            total.add(line)
        return total

    def json(self) -> dict[str, Any]:
        return {
            "object": "spend_report",
            "team": self.team,
            "key_id": self.key_id,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "by": self.by.value,
            "currency": self.currency,
            "data": [line.json(self.by) for line in self.lines],
            "total": self.total.json(self.by),
        }


def time_range(
    since: dt.datetime | None, until: dt.datetime | None, zone: ZoneInfo, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """``[since, until)`` to the quarter hour (times without a zone are read in ``zone``):
    by default from the start of this month (in ``zone``) to now."""
    for at, name in ((since, "since"), (until, "until")):
        if at is not None and not EARLIEST.year <= at.year <= LATEST.year:
            raise InvalidRequest(
                f"{name} must be between {EARLIEST.year} and {LATEST.year}", param=name
            )
    if until is None:
        until = now
    if since is None:
        local = now.astimezone(zone)
        since = dt.datetime.combine(local.date().replace(day=1), dt.time(), tzinfo=zone)
    since, until = (t if t.tzinfo else t.replace(tzinfo=zone) for t in (since, until))
    start = bucket_of(since)
    end = bucket_of(until)
    if end < until.astimezone(dt.UTC):
        end += BUCKET  # the quarter hour holding ``until`` is included
    if end <= start:
        raise InvalidRequest("until must come after since", param="until")
    if end - start > MAX_RANGE:
        raise InvalidRequest(f"a report covers at most {MAX_RANGE.days} days", param="since")
    return start, end


async def report(
    engine: AsyncEngine,
    *,
    team: str,
    key_id: str | None,
    since: dt.datetime,
    until: dt.datetime,
    by: GroupBy,
    zone: ZoneInfo,
    currency: str,
) -> Report:
    column = {
        GroupBy.MODEL: spend.c.model,
        GroupBy.KEY: spend.c.key_id,
        GroupBy.DAY: spend.c.bucket,
    }[by]
    query = (
        sa.select(column.label("group"), *(sa.func.sum(spend.c[name]).label(name) for name in SUMS))
        .where(spend.c.team == team, spend.c.bucket >= since, spend.c.bucket < until)
        .group_by(column)
    )
    if key_id is not None:
        query = query.where(spend.c.key_id == key_id)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    lines: dict[str, Line] = {}
    for row in rows:
        group = row.group
        if by is GroupBy.DAY:
            at = group if group.tzinfo else group.replace(tzinfo=dt.UTC)
            group = at.astimezone(zone).date().isoformat()
        lines.setdefault(group, Line(group)).add(row)
    ordered = sorted(
        lines.values(), key=lambda line: (by is not GroupBy.DAY and -line.cost_nanos, line.group)
    )
    return Report(team, key_id, since, until, by, currency, ordered)
