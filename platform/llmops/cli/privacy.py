"""``llmops privacy``: a person's data, exported or erased on request.

``forget`` erases the request-log rows; the response-cache entries when the cache is
shared in Redis (an in-process cache lives in the gateway: use its admin API,
``POST /admin/privacy/forget``); the lines in exported retraining windows
(``privacy.window_dirs`` and ``--windows``); and lists the model versions trained on
them (``privacy.tracking_uri`` or ``--tracking-uri``)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar, cast

import click
import orjson

from gateway import db
from gateway.cache import build as cache_build
from gateway.cache.embedding import MINILM_DIMENSIONS
from gateway.cache.redis import RedisCacheStore
from gateway.privacy import Erasure, Privacy, SubjectQuery, registry_lineage
from gateway.settings import GatewaySettings
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


def _with_privacy(
    config_path: Path | None,
    work: Callable[[Privacy], Awaitable[T]],
    *,
    windows: Sequence[Path] = (),
    tracking_uri: str | None = None,
) -> T:
    settings = load_gateway_settings(config_path)
    db.migrate(settings.database_url)
    tracking = tracking_uri or settings.privacy.tracking_uri

    async def go() -> T:
        engine = db.create_engine(settings.database_url)
        cache = _shared_cache(settings)
        try:
            if cache is not None:
                await cache.start()
            privacy = Privacy(
                engine,
                SubjectHasher(settings.key_hash_secret),
                cache=cache,
                windows=[*settings.privacy.window_dirs, *windows],
                lineage=registry_lineage(tracking) if tracking else None,
            )
            return await work(privacy)
        finally:
            if cache is not None:
                await cache.close()
            await engine.dispose()

    return run(go())


def _shared_cache(settings: GatewaySettings) -> RedisCacheStore | None:
    """The cache's Redis store when the gateways share one (nothing is loaded)."""
    if not settings.cache.enabled or settings.cache.store != "redis":
        return None
    return cast(RedisCacheStore, cache_build.store_for(settings, MINILM_DIMENSIONS))


@click.group()
def privacy() -> None:
    """Find, export and erase a person's data (request log, cache, exported windows)."""


@privacy.command()
@_subject_options
@click.option("--dry-run", is_flag=True, help="Count what would be erased; erase nothing.")
@click.option(
    "--windows",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A directory of exported retraining windows (besides privacy.window_dirs).",
)
@click.option("--tracking-uri", help="The MLflow registry to search for versions trained on them.")
@config_option
@json_option
def forget(
    user: str | None,
    key_id: str | None,
    team: str | None,
    dry_run: bool,
    windows: tuple[Path, ...],
    tracking_uri: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Erase a subject's request-log rows, response-cache entries and lines of exported
    windows; list the model versions trained on those; record the erasure in the audit
    trail."""
    actor = f"cli:{getpass.getuser()}"
    erasure = _with_privacy(
        config_path,
        lambda p: p.forget(SubjectQuery(user, key_id, team), actor=actor, dry_run=dry_run),
        windows=windows,
        tracking_uri=tracking_uri,
    )
    if as_json:
        print_json(erasure.json())
        return
    _show(erasure)


def _show(erasure: Erasure) -> None:
    verb = "would erase" if erasure.dry_run else "erased"
    click.echo(f"{erasure.subject}: {verb}")
    click.echo(f"  {erasure.request_log_rows} request-log rows")
    click.echo(f"  {erasure.feedback_rows} feedback rows")
    if erasure.cache_entries is None:
        click.echo(
            "  response cache: in the gateway's process (not shared in Redis); "
            "erase it there: POST /admin/privacy/forget"
        )
    else:
        click.echo(f"  {erasure.cache_entries} response-cache entries")
    files = ", ".join(erasure.window_files) or "none"
    click.echo(f"  {erasure.window_lines} lines of exported windows (files: {files})")
    if erasure.model_versions is None:
        if erasure.window_files:
            click.echo("  model versions trained on them: not searched (no --tracking-uri)")
        return
    for v in erasure.model_versions:
        click.echo(
            f"  trained on them: {v['model']} version {v['version']}"
            f" ({', '.join(v['data_files'])}): kept; retrain to leave them out"
        )


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
    """Write a subject's request-log rows as JSON lines (texts as stored: redacted), each
    with the feedback given on its answer."""
    rows = _with_privacy(config_path, lambda p: p.export(SubjectQuery(user, key_id, team)))
    lines = b"".join(orjson.dumps(row) + b"\n" for row in rows)
    if out is None:
        sys.stdout.buffer.write(lines)
    else:
        out.write_bytes(lines)
        click.echo(f"{len(rows)} rows written to {out}", err=True)
