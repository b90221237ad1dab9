"""``llmops up``: the whole local stack in one command, on embedded defaults.

SQLite for keys, in-process limits, and a local replica. Until the serving
engines land, the replica is the echo model; the gateway in front of it is the
production gateway, unchanged.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import click

from gateway import db, server
from gateway.keys.material import KeyHasher
from gateway.keys.store import KeyStore
from gateway.settings import GatewaySettings, ModelRoute
from llmops.cli.common import load_gateway_settings
from llmops.serving.echo import EchoServer


def _secret_file(path: Path) -> str:
    """A secret kept in ``path``, made on first use, readable by its owner only."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


async def _create_dev_key(settings: GatewaySettings) -> str:
    engine = db.create_engine(settings.database_url)
    try:
        store = KeyStore(engine, KeyHasher(settings.key_hash_secret))
        created = await store.create_key("local", name="make up", actor="llmops up")
    finally:
        await engine.dispose()
    return created.secret


def _dev_key(settings: GatewaySettings, path: Path) -> str:
    """The local team's key, created on the first ``llmops up`` and kept in ``path``."""
    if not path.exists():
        path.write_text(asyncio.run(_create_dev_key(settings)))
        path.chmod(0o600)
    return path.read_text().strip()


@click.command()
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".llmops")
)
@click.option("--port", type=int, default=8080, show_default=True, help="The gateway's port.")
@click.option("--replica-port", type=int, default=9001, show_default=True)
def up(data_dir: Path, port: int, replica_port: int) -> None:
    """Start the local stack: a model replica and the gateway in front of it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    replica = EchoServer(port=replica_port, model="echo").start_in_thread()
    base = load_gateway_settings(None)
    settings = base.model_copy(
        update={
            "database_url": f"sqlite:///{data_dir / 'gateway.db'}",
            "admin_token": _secret_file(data_dir / "admin-token"),
            "key_hash_secret": _secret_file(data_dir / "key-hash-secret"),
            "port": port,
            "models": [ModelRoute.model_validate({"name": "echo", "upstreams": [replica.url]})],
        }
    )
    db.migrate(settings.database_url)
    key = _dev_key(settings, data_dir / "api-key")
    click.echo(
        f"llmops is up.\n"
        f"  gateway:  http://{settings.host}:{port}/v1   (model: echo, replica {replica.url})\n"
        f"  API key:  {key}   (also in {data_dir / 'api-key'})\n"
        f"  admin:    token in {data_dir / 'admin-token'}\n"
        f"  metrics:  http://{settings.host}:{port}/metrics\n"
        f"Try:\n"
        f"  curl -s http://{settings.host}:{port}/v1/chat/completions \\\n"
        f"    -H 'Authorization: Bearer {key}' -H 'content-type: application/json' \\\n"
        f"""    -d '{{"model": "echo", "messages": [{{"role": "user", "content": "hi"}}]}}'\n"""
        f"Stop with Ctrl-C.",
        err=True,
    )
    try:
        server.serve(settings)
    finally:
        replica.stop_thread()
