"""``llmops privacy``: a person's data in the request log, exported or erased on request."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
import orjson

from gateway import db
from gateway.privacy import Privacy, SubjectQuery
from gateway.subjects import SubjectHasher
from llmops.cli.common import config_option, json_option, load_gateway_settings, print_json, run

T = TypeVar("T")

subject_options = [
    click.option("--user", help="An end user, as the client named them (user field or header)."),
    click.option("--key", "key_id", help="An API key's id."),
    click.option("--team", help="A team."),
]


def _subject_options(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(subject_options):
        command = option(command)
    return command


def _with_privacy(config_path: Path | None, work: Callable[[Privacy], Awaitable[T]]) -> T:
    settings = load_gateway_settings(config_path)
    db.migrate(settings.database_url)

    async def go() -> T:
        engine = db.create_engine(settings.database_url)
        try:
            return await work(Privacy(engine, SubjectHasher(settings.key_hash_secret)))
        finally:
            await engine.dispose()

    return run(go())


@click.group()
def privacy() -> None:
    """Find, export and erase a person's data (the request log)."""


@privacy.command()
@_subject_options
@click.option("--dry-run", is_flag=True, help="Count what would be erased; erase nothing.")
@config_option
@json_option
def forget(
    user: str | None,
    key_id: str | None,
    team: str | None,
    dry_run: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Erase a subject's request-log rows, and record the erasure in the audit trail."""
    actor = f"cli:{getpass.getuser()}"
    erasure = _with_privacy(
        config_path,
        lambda p: p.forget(SubjectQuery(user, key_id, team), actor=actor, dry_run=dry_run),
    )
    if as_json:
        print_json(erasure.json())
        return
    verb = "would erase" if dry_run else "erased"
    click.echo(f"{erasure.subject}: {verb} {erasure.request_log_rows} request-log rows")
    click.echo("Response-cache entries are not erased: they expire after cache.ttl_seconds.")


@privacy.command()
@_subject_options
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout)."
)
@config_option
def export(
    user: str | None,
    key_id: str | None,
    team: str | None,
    out: Path | None,
    config_path: Path | None,
) -> None:
    """Write a subject's request-log rows as JSON lines (texts as stored: redacted)."""
    rows = _with_privacy(config_path, lambda p: p.export(SubjectQuery(user, key_id, team)))
    lines = b"".join(orjson.dumps(row) + b"\n" for row in rows)
    if out is None:
        sys.stdout.buffer.write(lines)
    else:
        out.write_bytes(lines)
        click.echo(f"{len(rows)} rows written to {out}", err=True)
