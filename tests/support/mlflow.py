"""A real MLflow tracking server for tests, on a free port, stopped with everything it started."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from llmops.local import mlflow
from llmops.local.processes import Child, http_ok
from tests.support.services import free_port


@contextlib.contextmanager
def mlflow_server(backend_store_uri: str, workdir: Path) -> Iterator[str]:
    """``mlflow server`` over ``backend_store_uri`` (SQLite or PostgreSQL); yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    child = Child(
        "MLflow",
        mlflow.server_argv(backend_store_uri, workdir / "artifacts", port=port),
        log=workdir / "mlflow.log",
        env={**os.environ, **mlflow.SERVER_ENV},
    )
    child.start()
    try:
        child.wait_ready(lambda: http_ok(f"{url}/health"), timeout=180, what=f"MLflow on {url}")
        yield url
    finally:
        child.stop()
