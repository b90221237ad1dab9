"""What the key store hands out: teams, keys, the principal a key speaks for, budgets,
audit entries; and the checks on what callers ask it to store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidRequest
from gateway.spend.money import NANOS, text
from gateway.spend.periods import PeriodKind


class Unset:
    """Marks an update field the caller did not give (``None`` clears a limit)."""


UNSET = Unset()

MAX_LIMIT = 2**31 - 1
"""The largest requests or tokens per minute a limit may hold (a SQL ``INTEGER``)."""


@dataclass(frozen=True, slots=True)
class Budget:
    """How much may be spent per calendar period, in nano-units of the currency."""

    nanos: int
    period: PeriodKind

    @classmethod
    def of_row(cls, nanos: int | None, period: str | None) -> Budget | None:
        if nanos is None or period is None:
            return None
        return cls(int(nanos), PeriodKind(period))

    def json(self) -> dict[str, Any]:
        return {"amount": text(self.nanos), "period": self.period.value}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid key speaks for, and the limits that hold them."""

    key_id: str
    team: str
    models: frozenset[str] | None
    key_rpm: int | None
    key_tpm: int | None
    team_rpm: int | None
    team_tpm: int | None
    key_lineage: str = ""
    """The first key of this key's rotations (its budget's count)."""
    key_budget: Budget | None = None
    team_budget: Budget | None = None
    expires_at: dt.datetime | None = None

    def may_use(self, model: str) -> bool:
        return self.models is None or model in self.models

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    rpm: int | None
    tpm: int | None
    created_at: dt.datetime
    budget: Budget | None = None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    team: str
    name: str | None
    prefix: str
    models: list[str] | None
    rpm: int | None
    tpm: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    rotated_from: str | None
    expires_at: dt.datetime | None = None
    rotated_at: dt.datetime | None = None
    """When it was rotated with a grace period (it works until ``expires_at``)."""
    lineage: str | None = None
    budget: Budget | None = None


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key: the only moment its secret exists outside the caller's hands."""

    secret: str
    record: KeyRecord


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands timestamps back without a zone; they were written in UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def validate_limit(name: str, value: int | Unset | None) -> None:
    if isinstance(value, int) and not 1 <= value <= MAX_LIMIT:
        raise InvalidRequest(f"{name} must be an integer from 1 to {MAX_LIMIT}", param=name)


def validate_models(models: Sequence[str] | Unset | None) -> None:
    if isinstance(models, Unset) or models is None:
        return
    if not models or any(not m for m in models):
        raise InvalidRequest("models must be a non-empty list of model names", param="models")


MAX_BUDGET_NANOS = 1_000_000 * NANOS - 1
"""Budgets stay below a million units of the currency: counts in Redis's Lua are exact
to 2^53 nano-units (about nine million)."""
MAX_LIFETIME = dt.timedelta(days=100 * 365)


def validate_budget(budget: Budget | None) -> None:
    if budget is not None and not 0 < budget.nanos <= MAX_BUDGET_NANOS:
        raise InvalidRequest("a budget's amount must be above 0 and below 1000000", param="amount")


def utc_expiry(expires_at: dt.datetime | None) -> dt.datetime | None:
    """``expires_at`` checked (a zone, in the future, within a century) and in UTC."""
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise InvalidRequest(
            "expires_at needs a time zone (2027-01-31T00:00:00Z)", param="expires_at"
        )
    try:
        at = expires_at.astimezone(dt.UTC)
    except OverflowError as e:
        raise InvalidRequest("expires_at is out of range", param="expires_at") from e
    if at <= now():
        raise InvalidRequest("expires_at must be in the future", param="expires_at")
    if at - now() > MAX_LIFETIME:
        raise InvalidRequest("expires_at must be within a century", param="expires_at")
    return at


def team_of(row: Any) -> Team:
    return Team(
        name=row.name,
        rpm=row.rpm,
        tpm=row.tpm,
        created_at=utc(row.created_at) or now(),
        budget=Budget.of_row(row.budget_nanos, row.budget_period),
    )


def key_record_of(row: Any) -> KeyRecord:
    return KeyRecord(
        id=row.id,
        team=row.team,
        name=row.name,
        prefix=row.prefix,
        models=row.models,
        rpm=row.rpm,
        tpm=row.tpm,
        created_at=utc(row.created_at) or now(),
        revoked_at=utc(row.revoked_at),
        rotated_from=row.rotated_from,
        expires_at=utc(row.expires_at),
        rotated_at=utc(row.rotated_at),
        lineage=row.lineage,
        budget=Budget.of_row(row.budget_nanos, row.budget_period),
    )
