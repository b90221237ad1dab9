"""``llmops spend``: what a team spent, read from the spend table; and the click types
for amounts, durations and moments that ``keys`` and ``teams`` share."""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import re
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from gateway import db
from gateway.keys.material import KeyHasher
from gateway.keys.records import MAX_BUDGET_NANOS, Budget
from gateway.keys.store import KeyStore
from gateway.spend import money, reports
from gateway.spend.periods import PeriodKind
from llmops.cli.common import config_option, json_option, load_gateway_settings, print_json, run

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


class Duration(click.ParamType[dt.timedelta]):
    """``10m``, ``1h30m``, ``90d``, ``45s`` (or a number of seconds)."""

    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.timedelta:
        if isinstance(value, dt.timedelta):
            return value
        text = str(value).strip()
        if text.isdigit():
            return dt.timedelta(seconds=int(text))
        match = _DURATION.fullmatch(text)
        if not text or match is None:
            self.fail(f"{text!r} is not a duration (10m, 1h30m, 90d, 45s)", param, ctx)
        days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


class Moment(click.ParamType[dt.datetime]):
    """An ISO 8601 date or time (``2027-01-31``, ``2027-01-31T18:00+01:00``); without a
    zone it is read in the budgets' time zone (set later, by the command)."""

    name = "time"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date or time (2027-01-31)", param, ctx)


class Amount(click.ParamType[Decimal]):
    name = "amount"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            amount = Decimal(-1)
        if not amount.is_finite() or not 0 < money.to_nanos(amount) <= MAX_BUDGET_NANOS:
            self.fail(f"{value!r} is not an amount above 0 and below 1000000 (12.50)", param, ctx)
        return amount


DURATION = Duration()
MOMENT = Moment()
AMOUNT = Amount()
period_option = click.option(
    "--period",
    type=click.Choice([p.value for p in PeriodKind]),
    default=PeriodKind.MONTH.value,
    show_default=True,
    help="The calendar period the budget holds over (in budgets.timezone).",
)


def actor() -> str:
    return f"cli:{getpass.getuser()}"


def budget_of(amount: Decimal | None, period: str) -> Budget | None:
    return Budget(money.to_nanos(amount), PeriodKind(period)) if amount is not None else None


@click.command()
@click.option("--team", required=True, help="The team whose spend is reported.")
@click.option("--key", "key_id", help="Only this key's spend (its id).")
@click.option("--since", type=MOMENT, help="From (default: the start of this month).")
@click.option("--until", type=MOMENT, help="Until (default: now).")
@click.option(
    "--by",
    type=click.Choice([g.value for g in reports.GroupBy]),
    default=reports.GroupBy.MODEL.value,
    show_default=True,
    help="One line per model, key or day (days in budgets.timezone).",
)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@config_option
@json_option
def spend(
    team: str,
    key_id: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    by: str,
    as_csv: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """What a team spent, from the spend table (to the quarter hour). Times without a
    zone are read in budgets.timezone. Reading it is recorded in the audit trail."""
    if as_csv and as_json:
        raise click.UsageError("give --json or --csv, not both")
    settings = load_gateway_settings(config_path)
    zone = ZoneInfo(settings.budgets.timezone)
    db.migrate(settings.database_url)

    async def go() -> reports.Report:
        engine = db.create_engine(settings.database_url)
        try:
            start, end = reports.time_range(since, until, zone, dt.datetime.now(dt.UTC))
            result = await reports.report(
                engine,
                team=team,
                key_id=key_id,
                since=start,
                until=end,
                by=reports.GroupBy(by),
                zone=zone,
                currency=settings.budgets.currency,
            )
            store = KeyStore(engine, KeyHasher(settings.key_hash_secret))
            await store.record_read(actor(), "spend.read", team, {"key_id": key_id, "by": by})
            return result
        finally:
            await engine.dispose()

    result = run(go())
    data = result.json()
    if as_json:
        print_json(data)
        return
    columns = [by, "requests", "prompt_tokens", "cached_tokens", "completion_tokens", "cost"]
    rows = [*data["data"], data["total"] | {by: "total"}]
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)
        return
    click.echo(
        f"team {team}{f' key {key_id}' if key_id else ''}: {result.since.isoformat()} to "
        f"{result.until.isoformat()}, in {result.currency}"
    )
    click.echo("\t".join(columns))
    for row in rows:
        click.echo("\t".join(str(row[c]) for c in columns))
