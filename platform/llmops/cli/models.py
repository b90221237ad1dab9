"""``llmops models``: list versions, promote one behind gates, roll the champion back,
withdraw a failed challenger.

Exit codes: 0 done (promoted), 3 a gate refused the promotion, 2 usage error, 1 failure.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from llmops.cli.common import config_option, json_option, print_json
from llmops.errors import LlmopsError
from llmops.registry import promotion
from llmops.registry import settings as registry_settings
from llmops.registry.errors import GateSyntaxError, RegistryUnavailable
from llmops.registry.promotion import Actor, PromotionResult
from llmops.registry.store import ModelRegistry

GATE_REFUSED = 3

tracking_uri_option = click.option(
    "--tracking-uri",
    help="MLflow tracking URI (else LLMOPS_MLFLOW__TRACKING_URI, else MLFLOW_TRACKING_URI).",
)
actor_option = click.option(
    "--actor",
    envvar="LLMOPS_ACTOR",
    help="Who promotes, recorded on the version (default: the user; CI passes its actor).",
)


def open_registry(config_path: Path | None, flag: str | None) -> ModelRegistry:
    """The registry the flag, the settings or MLflow's variable name (exit 2 when none does)."""
    try:
        settings = registry_settings.load(config_path)
        uri = registry_settings.tracking_uri(flag, settings, os.environ)
    except RegistryUnavailable as e:
        raise click.UsageError(str(e)) from e
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
    return ModelRegistry(uri)


def _actor(name: str | None, reason: str | None) -> Actor:
    return Actor(name or f"cli:{getpass.getuser()}", reason or "")


@click.group()
def models() -> None:
    """Registered model versions, their aliases, promotion and rollback."""


@models.command("list")
@click.argument("name")
@tracking_uri_option
@config_option
@json_option
def list_versions(
    name: str, tracking_uri: str | None, config_path: Path | None, as_json: bool
) -> None:
    """List NAME's versions, newest first, with aliases and metrics."""
    registry = open_registry(config_path, tracking_uri)
    try:
        model = registry.model(name)
        versions = registry.versions(name)
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        print_json(
            {
                "model": name,
                "aliases": dict(model.aliases),
                "champion_history": model.champion_history,
                "versions": [v.to_json() for v in versions],
            }
        )
        return
    for v in versions:
        aliases = ",".join(f"@{a}" for a in sorted(v.aliases)) or "-"
        metrics = " ".join(
            f"{k}={v.tags[k]}" for k in ("eval_loss", "perplexity", "match") if k in v.tags
        )
        click.echo(f"{v.version}\t{aliases}\t{metrics}\tbase={v.tags.get('base', '-')}")


def _report(result: PromotionResult, as_json: bool) -> None:
    if as_json:
        print_json(result.to_json())
        return
    for gate in result.gates:
        verdict = "passed" if gate.passed else "REFUSED"
        note = f": {gate.note}" if gate.note else ""
        click.echo(
            f"gate {gate.expression}: {verdict} (value {gate.value:.6g}, "
            f"threshold {gate.threshold:.6g}){note}",
            err=True,
        )
    if result.promoted:
        was = f" (was {result.previous})" if result.previous else ""
        click.echo(f"{result.model}@{result.alias} -> version {result.version}{was}")
    else:
        click.echo(f"{result.model} version {result.version} was not promoted to @{result.alias}")


@models.command()
@click.argument("name")
@click.option("--version", "version", required=True, help="The version to promote.")
@click.option(
    "--to", "alias", required=True, type=click.Choice(promotion.ALIASES), help="The alias to set."
)
@click.option(
    "--gate",
    "gates",
    multiple=True,
    help="A condition the version must meet, e.g. 'eval_loss<=champion' or 'match>=0.8'.",
)
@click.option("--reason", help="Why, recorded on the version.")
@actor_option
@tracking_uri_option
@config_option
@json_option
@click.pass_context
def promote(
    ctx: click.Context,
    name: str,
    version: str,
    alias: str,
    gates: tuple[str, ...],
    reason: str | None,
    actor: str | None,
    tracking_uri: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Point NAME@champion or @challenger at a version if every gate passes (exit 3 if not)."""
    registry = open_registry(config_path, tracking_uri)
    try:
        result = promotion.promote(
            registry, name, version=version, alias=alias, gates=gates, actor=_actor(actor, reason)
        )
    except GateSyntaxError as e:
        raise click.UsageError(str(e)) from e
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
    _report(result, as_json)
    if not result.promoted:
        ctx.exit(GATE_REFUSED)


@models.command()
@click.argument("name")
@click.option("--reason", help="Why, recorded on both versions.")
@actor_option
@tracking_uri_option
@config_option
@json_option
def rollback(
    name: str,
    reason: str | None,
    actor: str | None,
    tracking_uri: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Return NAME@champion to the version that was champion before the current one."""
    registry = open_registry(config_path, tracking_uri)
    try:
        result = promotion.rollback(registry, name, _actor(actor, reason))
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
    _report(result, as_json)


@models.command()
@click.argument("name")
@click.option("--version", "version", required=True, help="The challenger's version.")
@click.option("--reason", help="Why, recorded on the version.")
@actor_option
@tracking_uri_option
@config_option
@json_option
def withdraw(
    name: str,
    version: str,
    reason: str | None,
    actor: str | None,
    tracking_uri: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Take NAME@challenger off a version (its canary failed); nothing when the alias
    points elsewhere already."""
    registry = open_registry(config_path, tracking_uri)
    try:
        withdrawn = promotion.withdraw(
            registry,
            name,
            alias=promotion.CHALLENGER,
            version=version,
            actor=_actor(actor, reason),
        )
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        print_json(
            {"withdrawn": withdrawn, "model": name, "version": version, "alias": "challenger"}
        )
    elif withdrawn:
        click.echo(f"{name}@challenger removed from version {version}")
    else:
        click.echo(f"{name}@challenger does not point at version {version}: nothing to do")
