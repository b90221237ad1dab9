"""``llmops keys`` and ``llmops teams``: API keys and team limits, straight on the key store."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import click

from gateway import admin, db
from gateway.keys.material import KeyHasher
from gateway.keys.store import UNSET, Budget, KeyStore, Team
from gateway.settings import GatewaySettings
from gateway.spend import money
from llmops.cli.common import config_option, json_option, load_gateway_settings, print_json, run
from llmops.cli.spend import AMOUNT, DURATION, MOMENT, budget_of, period_option
from llmops.cli.spend import actor as _actor

T = TypeVar("T")


@asynccontextmanager
async def _store(settings: GatewaySettings) -> AsyncIterator[KeyStore]:
    engine = db.create_engine(settings.database_url)
    try:
        yield KeyStore(engine, KeyHasher(settings.key_hash_secret))
    finally:
        await engine.dispose()


def _with_store(config_path: Path | None, work: Callable[[KeyStore], Awaitable[T]]) -> T:
    settings = load_gateway_settings(config_path)
    db.migrate(settings.database_url)

    async def go() -> T:
        async with _store(settings) as store:
            return await work(store)

    return run(go())


def _models(value: str | None) -> list[str] | None:
    if value is None:
        return None
    models = [m.strip() for m in value.split(",") if m.strip()]
    if not models:
        raise click.BadParameter("give at least one model name", param_hint="--models")
    return models


positive = click.IntRange(min=1)


@click.group()
def keys() -> None:
    """Create, list, revoke and rotate API keys."""


@keys.command()
@click.option("--team", required=True, help="The team the key speaks for (created if new).")
@click.option("--name", help="A label for the key.")
@click.option("--rpm", type=positive, help="Requests per minute for this key.")
@click.option("--tpm", type=positive, help="Tokens per minute for this key.")
@click.option("--models", help="Comma-separated models the key may use (default: all).")
@click.option(
    "--expires",
    help="When the key stops working: a duration from now (90d, 12h) or an ISO 8601 time.",
)
@click.option("--budget", type=AMOUNT, help="What the key may spend per --budget-period.")
@click.option(
    "--budget-period", type=click.Choice(["day", "month"]), default="month", show_default=True
)
@config_option
@json_option
def create(
    team: str,
    name: str | None,
    rpm: int | None,
    tpm: int | None,
    models: str | None,
    expires: str | None,
    budget: Decimal | None,
    budget_period: str,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Create a key. The key is printed once, alone on the last line."""
    allowed = _models(models)
    expires_at = _expiry(expires)
    limit = budget_of(budget, budget_period)
    created = _with_store(
        config_path,
        lambda s: s.create_key(
            team,
            models=allowed,
            rpm=rpm,
            tpm=tpm,
            name=name,
            expires_at=expires_at,
            budget=limit,
            actor=_actor(),
        ),
    )
    if as_json:
        print_json(admin.created_json(created))
        return
    record = created.record
    click.echo(f"created {record.id} for team {record.team} (store it now: it is not shown again)")
    click.echo(created.secret)


@keys.command("list")
@click.option("--team", help="Only this team's keys.")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@config_option
@json_option
def list_keys(
    team: str | None, include_revoked: bool, config_path: Path | None, as_json: bool
) -> None:
    """List keys (never their secrets)."""
    records = _with_store(
        config_path, lambda s: s.list_keys(team=team, include_revoked=include_revoked)
    )
    if as_json:
        print_json([admin.key_json(r) for r in records])
        return
    for r in records:
        state = "revoked" if r.revoked_at else "active"
        if r.expires_at is not None and state == "active":
            ended = r.expires_at <= dt.datetime.now(dt.UTC)
            state = (
                f"{'expired' if ended else 'expires'} {r.expires_at.isoformat(timespec='seconds')}"
            )
        models = ",".join(r.models) if r.models else "*"
        click.echo(
            f"{r.id}\t{r.team}\t{r.prefix}...\t{state}\tmodels={models}\t"
            f"rpm={r.rpm or '-'}\ttpm={r.tpm or '-'}"
        )


@keys.command()
@click.argument("key_id")
@config_option
@json_option
def revoke(key_id: str, config_path: Path | None, as_json: bool) -> None:
    """Revoke a key (every gateway replica refuses it within seconds)."""
    record = _with_store(config_path, lambda s: s.revoke_key(key_id, actor=_actor()))
    if as_json:
        print_json(admin.key_json(record))
    else:
        click.echo(f"revoked {record.id}")


@keys.command()
@click.argument("key_id")
@click.option(
    "--grace",
    type=DURATION,
    default="0s",
    help="How long the old key keeps working (10m, 1h); by default it is revoked at once.",
)
@click.option(
    "--expires",
    help="When the new key stops working (90d or an ISO time); default: after the old "
    "key's lifetime, if it had one.",
)
@config_option
@json_option
def rotate(
    key_id: str, grace: dt.timedelta, expires: str | None, config_path: Path | None, as_json: bool
) -> None:
    """Replace a key by a new one with the same team, models, limits and budget."""
    expires_at = _expiry(expires) if expires is not None else UNSET
    created = _with_store(
        config_path,
        lambda s: s.rotate_key(key_id, grace=grace, expires_at=expires_at, actor=_actor()),
    )
    if as_json:
        print_json(admin.created_json(created))
        return
    old = "the old key is revoked"
    if grace:
        old = f"the old key works until {(dt.datetime.now(dt.UTC) + grace).isoformat(timespec='seconds')}"
    click.echo(f"rotated {key_id} into {created.record.id} ({old})")
    click.echo(created.secret)


@keys.command("set-budget")
@click.argument("key_id")
@click.option("--amount", type=AMOUNT, help="What the key may spend per period.")
@period_option
@click.option("--clear", is_flag=True, help="Remove the key's budget.")
@config_option
@json_option
def set_key_budget(
    key_id: str,
    amount: Decimal | None,
    period: str,
    clear: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Set or clear a key's budget (it holds over the key's rotations)."""
    budget = _budget_option(amount, period, clear)
    record = _with_store(config_path, lambda s: s.set_key_budget(key_id, budget, actor=_actor()))
    if as_json:
        print_json(admin.key_json(record))
    else:
        click.echo(f"key {record.id}: budget {_budget_text(record.budget)}")


@click.group()
def teams() -> None:
    """Teams and their shared limits."""


@teams.command("set-limits")
@click.argument("team")
@click.option("--rpm", type=positive, help="Requests per minute for the whole team.")
@click.option("--tpm", type=positive, help="Tokens per minute for the whole team.")
@click.option("--clear", type=click.Choice(["rpm", "tpm"]), multiple=True, help="Remove a limit.")
@config_option
@json_option
def set_limits(
    team: str,
    rpm: int | None,
    tpm: int | None,
    clear: tuple[str, ...],
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Set or clear a team's limits (the team is created if new)."""

    async def work(store: KeyStore) -> Team:
        if team not in {t.name for t in await store.list_teams()}:
            await store.create_team(team, actor=_actor())
        return await store.update_team(
            team,
            rpm=None if "rpm" in clear else (rpm if rpm is not None else UNSET),
            tpm=None if "tpm" in clear else (tpm if tpm is not None else UNSET),
            actor=_actor(),
        )

    result = _with_store(config_path, work)
    if as_json:
        print_json(admin.team_json(result))
    else:
        click.echo(f"team {result.name}: rpm={result.rpm or '-'} tpm={result.tpm or '-'}")


@teams.command("set-budget")
@click.argument("team")
@click.option("--amount", type=AMOUNT, help="What the team may spend per period.")
@period_option
@click.option("--clear", is_flag=True, help="Remove the team's budget.")
@config_option
@json_option
def set_team_budget(
    team: str,
    amount: Decimal | None,
    period: str,
    clear: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Set or clear a team's budget (the team is created if new). Every gateway replica
    holds it within seconds; it starts from what the team spent this period."""
    budget = _budget_option(amount, period, clear)
    result = _with_store(config_path, lambda s: s.set_team_budget(team, budget, actor=_actor()))
    if as_json:
        print_json(admin.team_json(result))
    else:
        click.echo(f"team {result.name}: budget {_budget_text(result.budget)}")


def _budget_option(amount: Decimal | None, period: str, clear: bool) -> Budget | None:
    if clear == (amount is not None):
        raise click.UsageError("give --amount, or --clear")
    return None if clear else budget_of(amount, period)


def _budget_text(budget: Budget | None) -> str:
    if budget is None:
        return "none"
    return f"{money.text(budget.nanos)} per {budget.period.value}"


def _expiry(value: str | None) -> dt.datetime | None:
    """``--expires``: a duration from now, or an ISO 8601 time (UTC when it names no zone)."""
    if value is None:
        return None
    try:
        return dt.datetime.now(dt.UTC) + DURATION.convert(value, None, None)
    except click.BadParameter:
        pass
    except OverflowError as e:
        raise click.BadParameter(f"{value!r} is too far away", param_hint="--expires") from e
    try:
        at = MOMENT.convert(value, None, None)
    except click.BadParameter as e:
        raise click.BadParameter(
            f"{value!r} is neither a duration (90d, 12h) nor an ISO 8601 time",
            param_hint="--expires",
        ) from e
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


@teams.command("list")
@config_option
@json_option
def list_teams(config_path: Path | None, as_json: bool) -> None:
    """List teams and their limits."""
    result = _with_store(config_path, lambda s: s.list_teams())
    if as_json:
        print_json([admin.team_json(t) for t in result])
    else:
        for t in result:
            click.echo(
                f"{t.name}\trpm={t.rpm or '-'}\ttpm={t.tpm or '-'}\tbudget={_budget_text(t.budget)}"
            )
