"""``llmops feedback pairs``: users' feedback as preference pairs for ``--recipe dpo``.

Exit codes: 0 written (perhaps no pairs: the count says), 4 fewer pairs than
``--min-pairs`` (the file is written all the same), 2 usage error, 1 failure.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
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
@click.option(
    "--since",
    callback=lambda _ctx, _param, value: _time(value),
    help="Only feedback given since (ISO 8601; UTC unless an offset is given).",
)
@click.option(
    "--min-pairs",
    type=click.IntRange(min=0),
    default=0,
    help="Exit 4 when fewer pairs are found (a fine-tune would learn little from them).",
)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="JSONL to write."
)
@json_option
def pairs(
    database_url: str,
    model: str | None,
    since: datetime | None,
    min_pairs: int,
    out: Path,
    as_json: bool,
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
    if int(result["pairs"]) < min_pairs:  # type: ignore[call-overload]
        click.echo(f"{result['pairs']} pairs, fewer than the {min_pairs} needed", err=True)
        sys.exit(4)


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(f"{e} (expected ISO 8601)", param_hint="--since") from e
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
