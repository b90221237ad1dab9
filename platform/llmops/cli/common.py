"""What every command shares: loading settings, reporting errors, JSON output."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from gateway import settings as gateway_settings
from gateway.errors import GatewayError
from gateway.settings import GatewaySettings
from llmops.errors import LlmopsError

T = TypeVar("T")

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML settings file (LLMOPS_* environment variables override it).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def load_gateway_settings(path: Path | None, **overrides: object) -> GatewaySettings:
    try:
        return gateway_settings.load(path, **overrides)
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's async work, turning our errors into a message and exit code 1."""
    try:
        return asyncio.run(work)
    except (GatewayError, LlmopsError) as e:
        message = e.message if isinstance(e, GatewayError) else str(e)
        raise click.ClickException(message) from e


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
