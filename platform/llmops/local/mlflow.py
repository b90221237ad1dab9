"""The MLflow tracking server's command line, as the local stack and the tests start it."""

from __future__ import annotations

import sys
from pathlib import Path

SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
"""Added to the server's environment: without its job runner (GenAI evaluation jobs,
which llmops does not use) the server is 3 processes instead of about 10."""


def server_argv(backend_store_uri: str, artifacts: Path, *, port: int) -> list[str]:
    """``mlflow server`` on 127.0.0.1:``port`` with one worker, serving its own artifacts.

    The backend store is ``sqlite:///FILE`` locally or ``postgresql://...`` in
    production; artifacts are proxied by the server (``mlflow-artifacts:/``), so
    clients need no access to the artifact directory.
    """
    return [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", backend_store_uri,
        "--artifacts-destination", str(artifacts.resolve()),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
