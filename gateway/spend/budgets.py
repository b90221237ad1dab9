"""Budgets as limits: a team's and a key's budget become two period limits over their
current calendar period, counted in the same atomic admission as the rate limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from gateway.keys.records import Budget, Principal
from gateway.ratelimit.base import Admission, Limit, LimitKind
from gateway.ratelimit.policy import PREFIX
from gateway.spend.periods import Period, period_at

MARGIN_SECONDS = 86_400.0
"""A budget's count outlives its period by this much (clocks of replicas may differ)."""


@dataclass(frozen=True, slots=True)
class BudgetLimit:
    limit: Limit
    period: Period
    team: str
    lineage: str | None
    """The key lineage the budget counts (``None``: the team's budget)."""

    @property
    def label(self) -> str:
        """What the metrics call the budget: ``team``, or the key lineage's id."""
        return self.lineage or "team"


def limits_for(principal: Principal, zone: ZoneInfo, now: dt.datetime) -> tuple[BudgetLimit, ...]:
    """The team's budget, then the key's, when set."""
    team = f"{PREFIX}:{{t:{principal.team}}}"
    found: list[BudgetLimit] = []
    scopes: tuple[tuple[str, Budget | None, str | None], ...] = (
        ("team_budget", principal.team_budget, None),
        ("key_budget", principal.key_budget, principal.key_lineage or principal.key_id),
    )
    for name, budget, lineage in scopes:
        if budget is None:
            continue
        period = period_at(budget.period, now, zone)
        where = f"key:{lineage}" if lineage else "team"
        limit = Limit(
            name=name,
            key=f"{team}:budget:{where}:{period.label}",
            kind=LimitKind.BUDGET,
            limit=budget.nanos,
            window_seconds=period.seconds + MARGIN_SECONDS,
        )
        found.append(BudgetLimit(limit, period, principal.team, lineage))
    return tuple(found)


def too_small_for(budgets: tuple[BudgetLimit, ...], cost: int) -> BudgetLimit | None:
    """A budget that could never admit a request of ``cost``, if there is one."""
    return next((b for b in budgets if cost > b.limit.limit), None)


def with_periods(
    admission: Admission, budgets: tuple[BudgetLimit, ...], now: dt.datetime
) -> Admission:
    """The admission with each budget's reset at its period's end, and, when a budget
    refused it, the retry at the latest such end (nothing helps before)."""
    if not budgets:
        return admission
    ends = {b.limit.key: b.period.remaining(now) for b in budgets}
    states = tuple(
        dataclasses.replace(s, reset_seconds=ends[s.limit.key]) if s.limit.key in ends else s
        for s in admission.states
    )
    refused = [ends[s.limit.key] for s in admission.states if s.exceeded and s.limit.key in ends]
    retry = max(refused) if refused else admission.retry_after_seconds
    return dataclasses.replace(admission, states=states, retry_after_seconds=retry)


def exceeded(admission: Admission) -> bool:
    return any(s.exceeded and s.limit.kind is LimitKind.BUDGET for s in admission.states)
