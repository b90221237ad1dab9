"""``llmops serve``: a model replica on Ray Serve, or (``--standalone``) in one uvicorn process.

Heavy modules (torch, transformers, Ray) are imported only when the command runs,
so ``llmops --help`` and the other commands stay quick.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from llmops.cli.common import config_option
from llmops.errors import LlmopsError
from llmops.serving import settings as serving_settings
from llmops.serving import weights
from llmops.serving.settings import RegistrySource, ServingSettings


def load_settings(path: Path | None, **overrides: object) -> ServingSettings:
    try:
        return serving_settings.load(path, **overrides)
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e


def _announce_load(settings: ServingSettings) -> None:
    source = settings.model_source
    if isinstance(source, RegistrySource):
        if not settings.mlflow.tracking_uri:
            raise click.UsageError(
                f"{settings.source} needs the registry: set mlflow.tracking_uri "
                "(or LLMOPS_MLFLOW__TRACKING_URI)"
            )
        follows = " and following it" if source.alias else ""
        click.echo(
            f"loading {settings.source} from {settings.mlflow.tracking_uri}{follows} ...", err=True
        )
        return
    slow = weights.needs_conversion(source, settings.cache_dir)
    note = " (first start converts the GGUF file, ~20 s)" if slow else ""
    click.echo(f"loading {settings.model}{note} ...", err=True)


def _serve_standalone(settings: ServingSettings) -> None:
    import uvicorn

    from llmops.serving.engines import build_engine
    from llmops.serving.openai_api import create_app

    app = create_app(build_engine(settings))
    click.echo(
        f"serving {settings.model} v{settings.version} at http://{settings.host}:{settings.port}/v1",
        err=True,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)


def _serve_on_ray(settings: ServingSettings) -> None:
    from llmops.serving.ray_app import LocalRayServe, ray_environment

    os.environ.update(ray_environment(settings.ray))
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with LocalRayServe(settings) as ray_serve:
        click.echo(
            f"serving {settings.model} v{settings.version} at {ray_serve.url} (Ctrl-C stops)",
            err=True,
        )
        stopped.wait()
        click.echo("shutting down Ray Serve ...", err=True)


@click.command()
@config_option
@click.option("--host", help="Address to listen on (default from settings: 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default from settings: 8000).")
@click.option("--standalone", is_flag=True, help="Serve in this process with uvicorn, without Ray.")
def serve(config_path: Path | None, host: str | None, port: int | None, standalone: bool) -> None:
    """Serve a model over an OpenAI-compatible API until interrupted."""
    settings = load_settings(config_path, host=host, port=port)
    # Models come from local disk only; a library reaching for a model hub must not wait on it.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _announce_load(settings)
    try:
        if standalone:
            _serve_standalone(settings)
        else:
            _serve_on_ray(settings)
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
