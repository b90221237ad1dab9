"""Admission: a request's rate limits and budgets counted in one atomic step, or the
refusal that says which held it back and when to come back.

The worst-case cost (its prompt, and ``max_tokens`` of completion, at the highest price
it may meet: any version of its model, or a fallback) is reserved against the team's
and the key's budgets with the same admission as the request and token limits; the
settlement (:class:`gateway.exchange.Accounts`) replaces it with the real cost. A budget
with no count yet in its period starts from what the spend table says was spent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import exc as sa_exc

from gateway.errors import BudgetExceeded, RateLimited, RequestTooLarge, ServiceUnavailable
from gateway.exchange import Exchange
from gateway.metrics import GatewayMetrics
from gateway.ratelimit import policy
from gateway.ratelimit.base import Admission, Limit, LimitKind, RateLimiter, Ticket, Unseeded
from gateway.routing.pools import ModelPool
from gateway.settings import GatewaySettings
from gateway.spend import budgets as budget_limits
from gateway.spend import money
from gateway.spend.budgets import BudgetLimit
from gateway.spend.ledger import SpendLedger
from gateway.spend.money import Rates

log = logging.getLogger("llmops.gateway.access")

LOG_EVERY_SECONDS = 30.0


class Every:
    """True at most once per ``seconds`` (for a warning that every request would repeat)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._last = -seconds

    def due(self) -> bool:
        now = self._clock()
        if now - self._last < self._seconds:
            return False
        self._last = now
        return True


class Admissions:
    def __init__(
        self,
        *,
        settings: GatewaySettings,
        limiter: RateLimiter,
        pools: dict[str, ModelPool],
        metrics: GatewayMetrics,
        ledger: SpendLedger | None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._settings = settings
        self._limiter = limiter
        self._pools = pools
        self._metrics = metrics
        self._ledger = ledger
        self._zone = ZoneInfo(settings.budgets.timezone)
        self._clock = clock
        self._limits_warned = Every(LOG_EVERY_SECONDS)
        """The limit store's outage is logged once in a while, not once per request."""
        self._seeding: dict[str, asyncio.Future[None]] = {}
        """Budgets whose counts are being started, by limit key."""

    async def admit(self, ex: Exchange, completion: int) -> Ticket:
        """Count ``ex`` (its prompt and ``completion`` tokens reserved) against its limits
        and budgets: what was counted, or the refusal raised (429, or 503 without a limit
        store)."""
        assert ex.principal is not None
        rates = self._dearest(ex)
        wanted = Ticket(
            tokens=ex.prompt_tokens + completion,
            money=rates.worst_case(ex.prompt_tokens, completion) if rates else 0,
        )
        limits = policy.limits_for(ex.principal, self._settings.limits.window_seconds)
        too_small = policy.too_small_for(limits, wanted.tokens)
        if too_small is not None:
            raise RequestTooLarge(
                f"Request too large for team '{ex.team}' on {too_small.name}: limit "
                f"{too_small.limit} tokens per window, requested {wanted.tokens} "
                "(prompt plus max_tokens). Shorten the prompt or lower max_tokens.",
                headers={"x-should-retry": "false"},
            )
        now = self._clock()
        budgets = budget_limits.limits_for(ex.principal, self._zone, now) if wanted.money else ()
        self._check_fits(ex.team, wanted.money, budgets)
        limits += tuple(b.limit for b in budgets)
        counted, limits = await self._admission(ex.reservation, wanted, limits, budgets)
        admission = budget_limits.with_periods(counted, budgets, now)
        headers = policy.headers(admission)
        self._observe(budgets, admission)
        if not admission.admitted:
            for limit in admission.exceeded():
                self._metrics.ratelimited.labels(ex.team, limit.name).inc()
            if budget_limits.exceeded(admission):
                raise self._over_budget(ex.team, wanted, admission, headers)
            raise RateLimited(
                f"Rate limit reached for team '{ex.team}' "
                f"({', '.join(lim.name for lim in admission.exceeded())}); "
                f"retry in {admission.retry_after_seconds:.1f}s.",
                headers=headers,
            )
        # Only what was counted is settled: nothing for a request admitted without
        # limits (fail_open).
        return Ticket(wanted.tokens, wanted.money, limits if admission.states else (), headers)

    def _check_fits(self, team: str, cost: int, budgets: tuple[BudgetLimit, ...]) -> None:
        """Refuse, for good, a request that may cost more than a whole budget."""
        too_costly = budget_limits.too_small_for(budgets, cost)
        if too_costly is None:
            return
        raise BudgetExceeded(
            f"Request too costly for the {too_costly.limit.name.replace('_', ' ')} of team "
            f"'{team}': it may cost up to {money.text(cost)} "
            f"{self._settings.budgets.currency} (prompt plus max_tokens), the budget is "
            f"{money.text(too_costly.limit.limit)} per {too_costly.period.kind.value}. "
            "Shorten the prompt or lower max_tokens.",
            headers={"x-should-retry": "false"},
        )

    def _dearest(self, ex: Exchange) -> Rates | None:
        """The highest prices the request may meet: its model's versions, and the
        fallbacks it may be sent to."""
        assert ex.pool is not None and ex.principal is not None
        found = ex.pool.dearest()
        for name in ex.pool.fallbacks:
            pool = self._pools.get(name)
            rates = pool.dearest() if pool is not None and ex.principal.may_use(name) else None
            if rates is not None:
                found = rates if found is None else found.most(rates)
        return found

    def _over_budget(
        self, team: str, wanted: Ticket, admission: Admission, headers: dict[str, str]
    ) -> BudgetExceeded:
        names = [s.limit.name for s in admission.states if s.exceeded]
        budget = next(
            s for s in admission.states if s.exceeded and s.limit.kind is LimitKind.BUDGET
        )
        spent = budget.limit.limit - budget.remaining - budget.pending
        if spent + wanted.money <= budget.limit.limit:
            # What is missing is held by requests in flight, which settle to their real
            # (smaller) cost within seconds: worth a retry soon.
            return BudgetExceeded(
                f"Budget of team '{team}' ({', '.join(names)}) held by requests in flight: "
                f"{money.text(budget.pending)} {self._settings.budgets.currency} reserved, "
                f"{money.text(budget.remaining)} left, this request may cost "
                f"{money.text(wanted.money)}; retry in a second.",
                headers={**headers, "retry-after": "1", "retry-after-ms": "1000"},
            )
        far = admission.retry_after_seconds > self._settings.budgets.retry_hint_max_seconds
        return BudgetExceeded(
            f"Budget exhausted for team '{team}' ({', '.join(names)}): "
            f"{money.text(budget.remaining)} of {money.text(budget.limit.limit)} "
            f"{self._settings.budgets.currency} left, less than this request may cost "
            f"({money.text(wanted.money)}); it renews in "
            f"{policy.go_duration(budget.reset_seconds)}.",
            headers={**headers, **({"x-should-retry": "false"} if far else {})},
        )

    def _observe(self, budgets: tuple[BudgetLimit, ...], admission: Admission) -> None:
        """The budgets' spent share, reservations in flight left out."""
        if not budgets:
            return
        soft = self._settings.budgets.soft_threshold
        by_key = {s.limit.key: s for s in admission.states}
        for b in budgets:
            state = by_key.get(b.limit.key)
            if state is None:  # admitted without limits (fail_open)
                continue
            spent = max(0, b.limit.limit - state.remaining - state.pending)
            ratio = spent / b.limit.limit
            self._metrics.budgets.observe(
                b.team, b.label, ratio, ratio >= soft, b.period.end.timestamp()
            )

    async def _admission(
        self,
        reservation: str,
        wanted: Ticket,
        limits: tuple[Limit, ...],
        budgets: tuple[BudgetLimit, ...],
    ) -> tuple[Admission, tuple[Limit, ...]]:
        """The admission, and the limits it counted: the budgets are left out when their
        counts cannot be started (the spend table unreachable) and ``limits.fail_open``
        lets requests through; every limit when the limit store is unreachable."""
        fail_open = self._settings.limits.fail_open
        try:
            try:
                return await self._admit_once(reservation, wanted, limits), limits
            except Unseeded as e:  # a budget's first use in its period, or Redis lost it
                try:
                    await self._seed(e.limits, budgets)
                except _SpendUnreadable as unreadable:
                    if not fail_open:
                        raise ServiceUnavailable(
                            "The spend table is unreachable; retry shortly.",
                            code="budget_store_down",
                        ) from unreadable
                    self._metrics.limits_bypassed.inc()
                    if self._limits_warned.due():
                        log.warning("spend table unreachable: admitting without budgets")
                    limits = tuple(lim for lim in limits if not lim.period)
            try:
                return await self._admit_once(reservation, wanted, limits), limits
            except Unseeded as e:
                raise ServiceUnavailable(
                    "The budget store lost its counts; retry shortly.", code="budget_store_down"
                ) from e
        except ServiceUnavailable as e:
            if not fail_open or e.code == "budget_store_down":
                raise
            self._metrics.limits_bypassed.inc()
            if self._limits_warned.due():
                log.warning("limit store unreachable: admitting without limits (fail_open)")
            return (
                Admission(
                    admitted=True, reservation=reservation, retry_after_seconds=0.0, states=()
                ),
                (),
            )

    async def _admit_once(
        self, reservation: str, wanted: Ticket, limits: tuple[Limit, ...]
    ) -> Admission:
        return await self._limiter.admit(
            limits, tokens=wanted.tokens, money=wanted.money, reservation=reservation
        )

    async def _seed(self, limits: tuple[Limit, ...], budgets: tuple[BudgetLimit, ...]) -> None:
        """Start each budget's count at what the spend table says was spent this period:
        one read per budget at a time, however many requests wait for it."""
        by_key = {b.limit.key: b for b in budgets}
        for limit in limits:
            seeding = self._seeding.get(limit.key)
            if seeding is None:
                seeding = asyncio.ensure_future(self._seed_one(limit, by_key[limit.key]))
                self._seeding[limit.key] = seeding
                seeding.add_done_callback(functools.partial(self._seeded, limit.key))
            await asyncio.shield(seeding)

    def _seeded(self, key: str, _: asyncio.Future[None]) -> None:
        self._seeding.pop(key, None)

    async def _seed_one(self, limit: Limit, budget: BudgetLimit) -> None:
        used = 0
        if self._ledger is not None:
            try:
                used = await self._ledger.spent(
                    team=budget.team, lineage=budget.lineage, since=budget.period.start
                )
            except (sa_exc.SQLAlchemyError, OSError, TimeoutError) as e:
                raise _SpendUnreadable from e
        await self._limiter.seed(limit, used)


class _SpendUnreadable(Exception):
    """The spend table could not be read to start a budget's count."""
