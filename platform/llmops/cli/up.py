"""``llmops up``: the whole platform on one machine, in one command.

MLflow (SQLite), a model replica on Ray Serve running the bundled SmolLM2 on the
CPU, and the gateway in front of it (SQLite keys, in-process limits and response
cache). Each service is a child process in its own process group; Ctrl-C stops
them all.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import click
import yaml

from gateway import db, server
from gateway.keys.material import KeyHasher
from gateway.keys.store import KeyStore
from gateway.settings import GatewaySettings, ModelRoute
from llmops.cli.common import load_gateway_settings
from llmops.errors import LlmopsError
from llmops.evaluation import suite as suites
from llmops.local import mlflow
from llmops.local.processes import Child, Children, http_ok
from llmops.serving.echo import EchoServer

MODEL = "smollm2"


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


def _start_mlflow(children: Children, data_dir: Path, port: int) -> str:
    url = f"http://127.0.0.1:{port}"
    argv = mlflow.server_argv(
        f"sqlite:///{(data_dir / 'mlflow.db').resolve()}", data_dir / "mlartifacts", port=port
    )
    env = {**os.environ, **mlflow.SERVER_ENV}
    child = children.start(Child("MLflow", argv, log=data_dir / "logs" / "mlflow.log", env=env))
    child.wait_ready(lambda: http_ok(f"{url}/health"), timeout=120, what=f"MLflow on {url}")
    return url


def _start_replica(children: Children, data_dir: Path, port: int) -> str:
    """Ray Serve with the CPU engine and the bundled model; its OpenAI base URL."""
    config = data_dir / "serving.yaml"
    config.write_text(yaml.safe_dump({"model": MODEL, "port": port, "engine": "cpu"}))
    argv = [sys.executable, "-m", "llmops.cli", "serve", "--config", str(config)]
    child = children.start(Child("Ray Serve", argv, log=data_dir / "logs" / "serving.log"))
    url = f"http://127.0.0.1:{port}/v1"
    child.wait_ready(
        lambda: http_ok(f"{url}/models"),
        timeout=600,
        what=(
            "Ray Serve with SmolLM2-135M-Instruct on the CPU "
            "(the first start converts the bundled weights, about a minute)"
        ),
    )
    return url


def _start_drift_monitor(
    children: Children,
    data_dir: Path,
    database_url: str,
    mlflow_url: str,
    config: Path | None,
    metrics_port: int,
) -> str:
    """``llmops drift monitor`` as a child: the local model's traffic checked every interval
    (a given settings file replaces the default, which reports drift without retraining,
    and retrains with DPO on users' feedback)."""
    if config is None:
        config = data_dir / "drift.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "database_url": database_url,
                    "tracking_uri": mlflow_url,
                    "state_dir": str(data_dir / "drift"),
                    "interval_seconds": 300,
                    "deployments": [
                        {
                            "name": MODEL,
                            # The second loop: 50 feedback items start a DPO retrain of the
                            # bundled model; the result becomes @challenger behind the gates.
                            "feedback": {
                                "base": f"bundled:{MODEL}",
                                "min_new": 50,
                                "options": {"max-steps": 40, "threads": 1},
                            },
                        }
                    ],
                }
            )
        )
    argv = [
        sys.executable, "-m", "llmops.cli", "drift", "monitor",
        "--config", str(config), "--metrics-port", str(metrics_port),
    ]  # fmt: skip
    children.start(Child("drift monitor", argv, log=data_dir / "logs" / "drift.log"))
    return f"http://127.0.0.1:{metrics_port}/metrics"


def _examples(base: str, key: str) -> str:
    question = "What is the capital of France?"
    python = shlex.quote(sys.executable)  # the environment that has the openai package
    body = (
        f'{{"model": "{MODEL}", "temperature": 0, "max_tokens": 32, '
        f'"messages": [{{"role": "user", "content": "{question}"}}]}}'
    )
    return (
        f"Try it:\n"
        f"  curl -s {base}/chat/completions \\\n"
        f"    -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n"
        f"    -d '{body}'\n"
        f"\n"
        f'  {python} -c "from openai import OpenAI; '
        f"c = OpenAI(base_url='{base}', api_key='{key}'); "
        f"print(c.chat.completions.create(model='{MODEL}', temperature=0, max_tokens=32, "
        f"messages=[{{'role': 'user', 'content': '{question}'}}]).choices[0].message.content)\"\n"
    )


def _first_evaluation(
    children: Children, data_dir: Path, mlflow_url: str, gateway_v1: str, key: str
) -> str | None:
    """The example suite on the bundled model, once (the first ``llmops up`` of a data
    directory), judged by the model through the gateway; what to tell the user."""
    output = data_dir / "eval" / "example"
    if (output / "report.md").exists():
        return None
    argv = [
        sys.executable, "-m", "llmops.cli", "eval", "run", "--model", f"bundled:{MODEL}",
        "--suite", str(suites.EXAMPLE), "--tracking-uri", mlflow_url, "--output", str(output),
        "--judge-url", gateway_v1, "--judge-model", MODEL, "--threads", "1",
    ]  # fmt: skip
    env = {**os.environ, "LLMOPS_JUDGE_API_KEY": key}
    log = data_dir / "logs" / "eval.log"
    children.start(Child("first evaluation", argv, log=log, env=env))
    return (
        f"First evaluation: the example suite runs once on the bundled model (a few minutes);\n"
        f"  report in {output / 'report.md'} and in MLflow (experiment llmops-eval-local),\n"
        f"  progress in {log}.\n"
    )


def _announce_when_ready(health_url: str, text: str, then: Callable[[], str | None]) -> None:
    """Print ``text`` once the gateway answers, so every example works as soon as it shows;
    then start what needs the gateway (``then``) and print what it says."""

    def wait() -> None:
        deadline = time.monotonic() + 60
        while not http_ok(health_url) and time.monotonic() < deadline:
            time.sleep(0.2)
        click.echo(text)
        said = then()
        if said:
            click.echo(said)

    threading.Thread(target=wait, name="announce", daemon=True).start()


@click.command()
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".llmops")
)
@click.option("--port", type=int, default=8080, show_default=True, help="The gateway's port.")
@click.option("--replica-port", type=int, default=8000, show_default=True)
@click.option("--mlflow-port", type=int, default=5000, show_default=True)
@click.option(
    "--echo", is_flag=True, help="Serve the instant echo model instead (no Ray, no model load)."
)
@click.option(
    "--drift-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The drift monitor's settings (default: watch the local model, report only).",
)
@click.option("--drift-port", type=int, default=9108, show_default=True, help="Drift /metrics.")
@click.option(
    "--first-eval/--no-first-eval",
    default=True,
    show_default=True,
    help="Run the example evaluation suite once on the bundled model (not with --echo).",
)
@click.option(
    "--cache/--no-cache",
    default=True,
    show_default=True,
    help="The gateway's response cache, in process (exact and semantic tiers).",
)
def up(
    data_dir: Path,
    port: int,
    replica_port: int,
    mlflow_port: int,
    echo: bool,
    drift_config: Path | None,
    drift_port: int,
    first_eval: bool,
    cache: bool,
) -> None:
    """Start the local platform: MLflow, a model replica on Ray Serve, and the gateway."""
    data_dir.mkdir(parents=True, exist_ok=True)
    click.echo("Starting llmops:", err=True)
    echo_replica: EchoServer | None = None
    with Children() as children:
        try:
            mlflow_url = _start_mlflow(children, data_dir, mlflow_port)
            if echo:
                echo_replica = EchoServer(port=replica_port, model=MODEL).start_in_thread()
                replica_url = echo_replica.url
            else:
                replica_url = _start_replica(children, data_dir, replica_port)
        except LlmopsError as e:
            raise click.ClickException(str(e)) from e
        settings = load_gateway_settings(None).model_copy(
            update={
                "database_url": f"sqlite:///{data_dir / 'gateway.db'}",
                "admin_token": _secret_file(data_dir / "admin-token"),
                "key_hash_secret": _secret_file(data_dir / "key-hash-secret"),
                "port": port,
                "models": [ModelRoute.model_validate({"name": MODEL, "upstreams": [replica_url]})],
            }
        )
        if cache:
            settings = settings.model_copy(
                update={"cache": settings.cache.model_copy(update={"enabled": True})}
            )
        db.migrate(settings.database_url)
        key = _dev_key(settings, data_dir / "api-key")
        drift_metrics = _start_drift_monitor(
            children, data_dir, settings.database_url, mlflow_url, drift_config, drift_port
        )
        base = f"http://{settings.host}:{port}/v1"

        def evaluate() -> str | None:
            if echo or not first_eval:
                return None
            return _first_evaluation(children, data_dir, mlflow_url, base, key)

        _announce_when_ready(
            f"http://{settings.host}:{port}/healthz",
            f"\nllmops is up.\n"
            f"  gateway:  {base}   (model: {MODEL}, replica {replica_url})\n"
            f"  MLflow:   {mlflow_url}\n"
            f"  metrics:  http://{settings.host}:{port}/metrics, drift {drift_metrics}\n"
            f"  admin:    token in {data_dir / 'admin-token'}; logs in {data_dir / 'logs'}\n"
            f"API key: {key}\n\n" + _examples(base, key) + "\nStop with Ctrl-C.",
            evaluate,
        )
        try:
            server.serve(settings)
        except KeyboardInterrupt:
            pass  # the server re-raises the Ctrl-C it shut down on: stopping is what was asked
        finally:
            click.echo("Stopping llmops ...", err=True)
            if echo_replica is not None:
                echo_replica.stop_thread()
