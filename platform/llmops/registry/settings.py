"""Where the registry lives: the MLflow tracking URI, from a flag, the settings or MLflow's variable."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from llmops import settings as core_settings
from llmops.registry.errors import RegistryUnavailable

MLFLOW_ENV = "MLFLOW_TRACKING_URI"


class MlflowSettings(BaseModel):
    # Serving reads more of this section (poll_seconds): ignore what is not ours.
    model_config = ConfigDict(extra="ignore", frozen=True)

    tracking_uri: str | None = None
    """``http://host:5000`` (a tracking server), or a database URI MLflow accepts."""


class RegistrySettings(BaseModel):
    """The part of the settings the registry and fine-tuning commands read."""

    # Other components' LLMOPS_ variables share the environment: ignore what is not ours.
    model_config = ConfigDict(extra="ignore", frozen=True)

    mlflow: MlflowSettings = MlflowSettings()


def load(path: Path | None) -> RegistrySettings:
    return core_settings.load(RegistrySettings, path)


def tracking_uri(flag: str | None, settings: RegistrySettings, environ: Mapping[str, str]) -> str:
    """``--tracking-uri``, else ``mlflow.tracking_uri`` in the settings, else MLFLOW_TRACKING_URI."""
    uri = flag or settings.mlflow.tracking_uri or environ.get(MLFLOW_ENV)
    if not uri:
        raise RegistryUnavailable(
            "no MLflow tracking URI: pass --tracking-uri, or set LLMOPS_MLFLOW__TRACKING_URI "
            f"or {MLFLOW_ENV}"
        )
    return uri
