"""``llmops feedback pairs``: users' feedback as preference pairs for ``--recipe dpo``.

Exit codes: 0 written (perhaps no pairs: the count says), 2 usage error, 1 failure.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import click

from llmops.cli.common import json_option, print_json
from llmops.errors import LlmopsError


@click.group()
def feedback() -> None:
    """Users' feedback on answers (POST /v1/feedback at the gateway)."""


@feedback.command()
@click.option("--database-url", required=True, help="The gateway's database.")
@click.option("--model", help="Only answers of this model (the gateway's name).")
@click.option("--since", type=click.DateTime(), help="Only feedback given since (UTC, ISO 8601).")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="JSONL to write."
)
@json_option
def pairs(
    database_url: str, model: str | None, since: datetime | None, out: Path, as_json: bool
) -> None:
    """Write preference pairs: corrections chosen over the model's answers, and well-scored
    answers over poorly scored ones to the same prompt."""
    from llmops.monitoring.feedback import write_pairs
    from llmops.monitoring.reader import engine_for

    async def work() -> dict[str, object]:
        engine = engine_for(database_url)
        try:
            written = await write_pairs(engine, out, model=model, since=since)
        finally:
            await engine.dispose()
        return written.to_json()

    try:
        result = asyncio.run(work())
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        print_json(result)
    else:
        click.echo(
            f"{result['pairs']} pairs ({result['from_corrections']} from corrections, "
            f"{result['from_scores']} from scores) from {result['feedback']} feedback items "
            f"written to {out}"
        )
