"""``llmops gateway``: serve the gateway, migrate its database."""

from __future__ import annotations

import os
from pathlib import Path

import click

from gateway import db, server
from llmops.cli.common import config_option, load_gateway_settings


@click.group()
def gateway() -> None:
    """The OpenAI-compatible gateway."""


@gateway.command()
@config_option
@click.option("--host", help="Address to listen on (default from settings: 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default from settings: 8080).")
def serve(config_path: Path | None, host: str | None, port: int | None) -> None:
    """Serve the gateway until interrupted."""
    settings = load_gateway_settings(config_path, host=host, port=port)
    # The cache's embedding model comes from its package: the Hugging Face libraries must
    # never try the network for it (they read this when first imported, at cache start).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    server.serve(settings)


@gateway.command()
@config_option
def migrate(config_path: Path | None) -> None:
    """Bring the gateway's database schema up to date."""
    settings = load_gateway_settings(config_path)
    db.migrate(settings.database_url)
    click.echo("database schema is up to date")
