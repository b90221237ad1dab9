"""``llmops``: one command for the platform. Exit codes: 0 success, 1 failure, 2 usage error."""

from __future__ import annotations

import click

from llmops import __version__
from llmops.cli import (
    drift,
    evaluate,
    feedback,
    finetune,
    gateway,
    keys,
    models,
    operator,
    privacy,
    serve,
    shadow,
    spend,
    up,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="llmops")
def cli() -> None:
    """Run and operate the llmops platform."""


cli.add_command(drift.drift)
cli.add_command(evaluate.evaluate)
cli.add_command(feedback.feedback)
cli.add_command(finetune.finetune)
cli.add_command(gateway.gateway)
cli.add_command(keys.keys)
cli.add_command(keys.teams)
cli.add_command(models.models)
cli.add_command(operator.operator)
cli.add_command(privacy.privacy)
cli.add_command(serve.serve)
cli.add_command(shadow.shadow)
cli.add_command(spend.spend)
cli.add_command(up.up)


def main() -> None:
    cli()
