"""Calendar periods in a time zone: the day or month a moment falls in, where it starts
and ends. Budgets count from the period's start; a new period starts a new count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    start: dt.datetime
    """In UTC."""
    end: dt.datetime
    """In UTC: the next period's start."""

    @property
    def label(self) -> str:
        """``day:20261206T2300`` (its start in UTC): names the period's count."""
        return f"{self.kind.value}:{self.start.strftime('%Y%m%dT%H%M')}"

    def remaining(self, now: dt.datetime) -> float:
        return max(0.0, (self.end - now).total_seconds())

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def period_at(kind: PeriodKind, now: dt.datetime, zone: ZoneInfo) -> Period:
    """The ``kind`` period holding ``now`` (an aware datetime) in ``zone``."""
    local = now.astimezone(zone)
    if kind is PeriodKind.DAY:
        first = local.date()
        following = first + dt.timedelta(days=1)
    else:
        first = local.date().replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(kind, _midnight(first, zone), _midnight(following, zone))


def local_day(at: dt.datetime, zone: ZoneInfo) -> dt.date:
    return at.astimezone(zone).date()


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first moment of ``day`` in ``zone``, in UTC. Where clocks skip midnight, the
    offset before the change applies (PEP 495): that is the moment the clocks land."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
