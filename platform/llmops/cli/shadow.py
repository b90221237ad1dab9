"""``llmops shadow compare``: how a shadow version did against the primary, on the same
requests (the request log's mirrored pairs)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import click

from llmops.cli.common import json_option, print_json
from llmops.errors import LlmopsError


@click.group()
def shadow() -> None:
    """Shadow versions: requests mirrored to a version nobody sees."""


@shadow.command()
@click.option("--database-url", required=True, help="The gateway's database.")
@click.option("--model", required=True, help="The model (the gateway's name).")
@click.option(
    "--minutes", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
    help="The window: the last N minutes.",
)  # fmt: skip
@json_option
def compare(database_url: str, model: str, minutes: float, as_json: bool) -> None:
    """Agreement with the primary's answers, latency ratio and error rates per shadow version."""
    from llmops.monitoring import shadow as figures
    from llmops.monitoring.reader import RequestLogReader, Window, engine_for

    end = datetime.now(UTC)
    window = Window(end - timedelta(minutes=minutes), end + timedelta(seconds=1))

    async def work() -> list[figures.ShadowFigures]:
        reader = RequestLogReader(engine_for(database_url))
        try:
            primary = await reader.window(model, window)
            mirrored = await reader.window(model, window, shadow=True)
        finally:
            await reader.close()
        return figures.compare(primary, mirrored)

    try:
        found = asyncio.run(work())
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        print_json({"model": model, "minutes": minutes, "shadows": [f.to_json() for f in found]})
        return
    if not found:
        click.echo(f"no mirrored requests of {model} in the last {minutes:g} minutes")
    for f in found:
        agreement = "-" if f.agreement is None else f"{f.agreement:.3f}"
        ratio = "-" if f.latency_ratio is None else f"{f.latency_ratio:.2f}"
        click.echo(
            f"{model} shadow {f.version}: {f.pairs} requests, agreement {agreement} "
            f"({f.compared_texts} texts), latency x{ratio}, errors {f.shadow_error_rate:.1%} "
            f"(primary {f.primary_error_rate:.1%})"
        )
