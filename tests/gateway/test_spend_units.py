"""Prices, costs and calendar periods: the arithmetic budgets and reports rest on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from gateway.settings import GatewaySettings, Price
from gateway.spend.ledger import bucket_of
from gateway.spend.money import Rates, text, to_nanos
from gateway.spend.periods import PeriodKind, period_at
from gateway.usage import Usage

PARIS = ZoneInfo("Europe/Paris")


def test_a_cost_follows_the_usage_and_the_prices() -> None:
    rates = Rates.of(
        Price(input=Decimal("0.15"), cached_input=Decimal("0.075"), output=Decimal("0.6"))
    )
    # 1,000 prompt tokens (400 cached) and 200 completion tokens:
    # 600 x 0.15 + 400 x 0.075 + 200 x 0.6 per million = 0.00024 in the currency.
    assert text(rates.cost(Usage(prompt=1000, completion=200, cached=400))) == "0.00024"
    assert rates.cost(Usage()) == 0
    # The worst case counts every prompt token at the full price, rounded up.
    assert rates.worst_case(1000, 200) == 270_000
    assert Rates.of(Price(input=Decimal("1e-9"), output=Decimal(0))).worst_case(1, 0) == 1


def test_cached_tokens_cost_the_input_price_when_none_is_given() -> None:
    rates = Rates.of(Price(input=Decimal(2), output=Decimal(8)))
    assert rates.cost(Usage(prompt=10, completion=0, cached=10)) == rates.cost(Usage(prompt=10))


def test_usage_reads_cached_tokens_and_never_more_than_the_prompt() -> None:
    usage = Usage.of(
        {
            "usage": {
                "prompt_tokens": 5,
                "completion_tokens": 2,
                "prompt_tokens_details": {"cached_tokens": 9},
            }
        }
    )
    assert usage == Usage(prompt=5, completion=2, cached=5)
    assert Usage.of({"usage": {"prompt_tokens": 5, "prompt_tokens_details": "x"}}) == Usage(5, 0, 0)


def test_amounts_round_trip_as_plain_decimals() -> None:
    assert to_nanos(Decimal("12.5")) == 12_500_000_000
    assert text(12_500_000_000) == "12.5" and text(1) == "0.000000001" and text(0) == "0"


@pytest.mark.parametrize("bad", ["-1", "1e7", "0.0000000001", "nan"])
def test_prices_out_of_range_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="price"):
        GatewaySettings.model_validate(
            {
                "models": [
                    {
                        "name": "m",
                        "upstreams": ["http://h/v1"],
                        "price": {"input": bad, "output": 1},
                    }
                ]
            }
        )


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        GatewaySettings.model_validate({"budgets": {"timezone": "Mars/Olympus"}})


def test_days_start_at_the_zones_midnight() -> None:
    before = dt.datetime(2026, 12, 6, 22, 59, 59, tzinfo=dt.UTC)  # 23:59:59 in Paris
    after = before + dt.timedelta(seconds=2)  # 00:00:01 on the 7th in Paris
    first, second = (
        period_at(PeriodKind.DAY, before, PARIS),
        period_at(PeriodKind.DAY, after, PARIS),
    )
    assert first.end == second.start == dt.datetime(2026, 12, 6, 23, tzinfo=dt.UTC)
    assert first.label != second.label
    assert first.remaining(before) == pytest.approx(1.0)


def test_periods_follow_daylight_saving_and_month_lengths() -> None:
    spring = period_at(PeriodKind.DAY, dt.datetime(2026, 3, 29, 12, tzinfo=dt.UTC), PARIS)
    assert spring.seconds == 23 * 3600
    february = period_at(PeriodKind.MONTH, dt.datetime(2028, 2, 10, tzinfo=dt.UTC), ZoneInfo("UTC"))
    assert (february.start.day, february.end.month, february.seconds) == (1, 3, 29 * 86400)
    kolkata = period_at(
        PeriodKind.DAY, dt.datetime(2026, 12, 7, 5, tzinfo=dt.UTC), ZoneInfo("Asia/Kolkata")
    )
    assert kolkata.start == dt.datetime(2026, 12, 6, 18, 30, tzinfo=dt.UTC)
    # Every period starts on a quarter hour, so the spend table's buckets never straddle one.
    assert bucket_of(kolkata.start) == kolkata.start
