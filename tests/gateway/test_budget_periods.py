"""Budgets over calendar periods, on the real stores: a new period at the zone's midnight,
a count rebuilt from the spend table when the limit store lost it, and spend reports that
SQLite and PostgreSQL give alike."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from opentelemetry.trace import INVALID_SPAN

from gateway import db
from gateway.admission import Admissions
from gateway.errors import BudgetExceeded
from gateway.exchange import Exchange
from gateway.keys.records import Budget, Principal
from gateway.metrics import GatewayMetrics
from gateway.openai_schema import Endpoint
from gateway.ratelimit.base import RateLimiter
from gateway.ratelimit.memory import MemoryRateLimiter
from gateway.ratelimit.redis import RedisRateLimiter
from gateway.routing.pools import pools_from
from gateway.settings import GatewaySettings
from gateway.spend import reports
from gateway.spend.ledger import SpendLedger
from gateway.spend.periods import PeriodKind
from gateway.usage import Usage

PARIS = ZoneInfo("Europe/Paris")
# One million output tokens cost 1: a request of 100 completion tokens reserves 0.0001.
SETTINGS = GatewaySettings.model_validate(
    {
        "models": [{"name": "m", "upstreams": ["http://h/v1"], "price": {"input": 0, "output": 1}}],
        "budgets": {"timezone": "Europe/Paris"},
    }
)
BUDGET = Budget(300_000, PeriodKind.DAY)  # three such requests a day


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def engine_url(database_url: str) -> AsyncIterator[str]:
    await asyncio.to_thread(db.migrate, database_url)
    yield database_url
    engine = db.create_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("DELETE FROM spend"))
    await engine.dispose()


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _exchange(team: str) -> Exchange:
    ex = Exchange(endpoint=Endpoint.CHAT, started=0.0, span=INVALID_SPAN, reservation="")
    ex.principal = Principal(
        key_id="key_1",
        team=team,
        models=None,
        key_rpm=None,
        key_tpm=None,
        team_rpm=None,
        team_tpm=None,
        key_lineage="key_1",
        team_budget=BUDGET,
    )
    ex.pool = pools_from(SETTINGS.models, SETTINGS.routing.circuit)["m"]
    ex.prompt_tokens = 10
    return ex


async def _spend_all(
    admissions: Admissions, ledger: SpendLedger, team: str, at: dt.datetime
) -> int:
    """Admit requests costing their whole reservation until refused; how many went."""
    for n in range(10):
        ex = _exchange(team)
        ex.reservation = f"{team}-{at.isoformat()}-{n}"
        try:
            ticket = await admissions.admit(ex, 100)
        except BudgetExceeded:
            return n
        ledger.add(
            at=at,
            team=team,
            key_id="key_1",
            lineage="key_1",
            model="m",
            version="m",
            usage=Usage(10, 100),
            cost=ticket.money,
        )
    raise AssertionError("the budget never refused")


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_a_new_day_starts_at_the_zones_midnight_and_lost_counts_are_rebuilt(
    store: str, redis_url: str, engine_url: str
) -> None:
    engine = db.create_engine(engine_url)
    ledger = SpendLedger(engine, flush_seconds=60)

    def limiter() -> RateLimiter:
        if store == "memory":
            return MemoryRateLimiter()
        return RedisRateLimiter.from_url(redis_url)

    team = f"rollover-{store}-{engine.dialect.name}"
    clock = Clock(dt.datetime(2026, 12, 6, 22, 59, 58, tzinfo=dt.UTC))  # 23:59:58 in Paris
    first = limiter()
    admissions = Admissions(
        settings=SETTINGS,
        limiter=first,
        pools={},
        metrics=GatewayMetrics(),
        ledger=ledger,
        clock=clock,
    )
    assert await _spend_all(admissions, ledger, team, clock.now) == 3
    await ledger.flush()

    # The limit store loses its counts (Redis restarted): the count is rebuilt from the
    # spend table, and the day's budget still holds.
    second = limiter()
    if store == "redis":
        await first.close()
        redis = RedisRateLimiter.from_url(redis_url)
        lost = await redis._redis.call("KEYS", f"llmops:rl:{{t:{team}}}*")
        assert lost  # the team's counts, lost as a restarted Redis loses them
        await redis._redis.call("DEL", *lost)
        await redis.close()
    rebuilt = Admissions(
        settings=SETTINGS,
        limiter=second,
        pools={},
        metrics=GatewayMetrics(),
        ledger=ledger,
        clock=clock,
    )
    assert await _spend_all(rebuilt, ledger, team, clock.now) == 0

    clock.now += dt.timedelta(seconds=3)  # 00:00:01 on the 7th in Paris
    assert await _spend_all(rebuilt, ledger, team, clock.now) == 3
    await ledger.flush()
    await second.close()
    if store == "memory":
        await first.close()
    await engine.dispose()


async def test_spend_reports_agree_on_sqlite_and_postgresql(
    sqlite_url: str, postgres_url: str
) -> None:
    start = dt.datetime(2026, 11, 30, 22, 50, tzinfo=dt.UTC)
    results = []
    for url in (sqlite_url, postgres_url):
        await asyncio.to_thread(db.migrate, url)
        engine = db.create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM spend WHERE team = 'agree'"))
        ledger = SpendLedger(engine, flush_seconds=60)
        for n in range(200):  # across the midnight of 1 December in Paris, and two days on
            ledger.add(
                at=start + dt.timedelta(minutes=17 * n),
                team="agree",
                key_id=f"key_{n % 3}",
                lineage=f"key_{n % 3}",
                model=("small", "large")[n % 2],
                version="1",
                usage=Usage(100 + n, n, n // 2),
                cost=1_000 * n + 7,
            )
            if n % 50 == 0:
                await ledger.flush()
        await ledger.flush()
        report = {}
        for by in reports.GroupBy:
            found = await reports.report(
                engine,
                team="agree",
                key_id=None,
                since=dt.datetime(2026, 11, 30, 23, tzinfo=dt.UTC),
                until=dt.datetime(2026, 12, 3, tzinfo=dt.UTC),
                by=by,
                zone=PARIS,
                currency="EUR",
            )
            report[by.value] = found.json()
        results.append(report)
        await engine.dispose()
    sqlite, postgres = results
    assert sqlite == postgres
    days = [line["day"] for line in sqlite["day"]["data"]]
    assert days == ["2026-12-01", "2026-12-02", "2026-12-03"]
    # 22:50 UTC on 30 November is 23:50 in Paris: those requests are before the range.
    assert sqlite["model"]["total"]["requests"] < 200
    totals = {by: sqlite[by]["total"] for by in ("model", "key", "day")}
    assert len({(t["requests"], t["cost"]) for t in totals.values()}) == 1
