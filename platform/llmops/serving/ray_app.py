"""The replica as a Ray Serve application: one deployment per model version, autoscaled.

Each replica of :class:`ModelReplica` builds its engine from the settings it was
bound with and serves :func:`llmops.serving.openai_api.create_app` over it; the
app's lifespan loads the model when the replica starts and frees it when Ray Serve
stops the replica. :class:`LocalRayServe` runs the application on a Ray started
for it (``llmops serve``, tests, benchmarks) and leaves no process behind.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import ray
from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from llmops.serving.engines import build_engine
from llmops.serving.openai_api import create_app
from llmops.serving.settings import RaySettings, ServingSettings

# Replicas must never reach for a model hub: every model is on local disk.
REPLICA_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@serve.ingress()
class ModelReplica:
    """One replica: an engine and the OpenAI-compatible app over it."""

    def __init__(self, settings: ServingSettings) -> None:
        self._engine = build_engine(settings)

    def __serve_build_asgi_app__(self) -> FastAPI:
        # Built after __init__ on the replica; Ray Serve runs its lifespan (the model load).
        return create_app(self._engine)

    async def check_health(self) -> None:
        """Ray Serve restarts a replica whose check raises (a dead decode thread, a dead vLLM)."""
        await self._engine.check_health()


def deployment_options(settings: ServingSettings) -> dict[str, Any]:
    """The deployment's Ray Serve options: its name, autoscaling and per-replica resources."""
    scaling = settings.autoscaling
    return {
        "name": settings.app_name,
        "max_ongoing_requests": scaling.max_ongoing_requests,
        "autoscaling_config": {
            "min_replicas": scaling.min_replicas,
            "max_replicas": scaling.max_replicas,
            "target_ongoing_requests": scaling.target_ongoing_requests,
        },
        "ray_actor_options": {
            "num_cpus": settings.ray.replica_num_cpus,
            "num_gpus": settings.ray.replica_num_gpus,
            "runtime_env": {"env_vars": REPLICA_ENV},
        },
        # Loading (or converting) a model takes longer than Serve's default patience.
        "health_check_timeout_s": 60,
        "graceful_shutdown_timeout_s": 30,
    }


def build_app(settings: ServingSettings) -> Application:
    """The Ray Serve application serving ``settings``' model version, ready for ``serve.run``."""
    deployment = serve.deployment(**deployment_options(settings))(ModelReplica)
    return deployment.bind(settings)


def app_from_args(args: dict[str, Any]) -> Application:
    """The application builder a RayService's ``serveConfigV2`` names
    (``import_path: llmops.serving.ray_app:app_from_args``): ``args`` are the replica's
    settings, validated here (Ray hands the builder a plain dict)."""
    return build_app(ServingSettings.model_validate(args))


def ray_environment(settings: RaySettings) -> dict[str, str]:
    """What Ray must find in the environment before it starts: it reads its authentication
    mode from there only. ``disabled`` unless ``token_auth`` asks for tokens. The entry
    point that starts Ray applies it (settings are read nowhere else)."""
    return {"RAY_AUTH_MODE": "token" if settings.token_auth else "disabled"}


class LocalRayServe:
    """Ray (local, or the cluster ``ray.address`` names) with the application deployed on it.

    Start it with :func:`ray_environment` applied to the process's environment.
    """

    def __init__(self, settings: ServingSettings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        """The OpenAI base URL of the deployed application (ends in ``/v1``)."""
        prefix = self.settings.route_prefix.rstrip("/")
        return f"http://{self.settings.host}:{self.settings.port}{prefix}/v1"

    def start(self) -> str:
        ray_settings = self.settings.ray
        local: dict[str, Any] = (
            {"num_cpus": ray_settings.num_cpus} if ray_settings.address is None else {}
        )
        ray.init(
            address=ray_settings.address,
            include_dashboard=False,
            logging_level=logging.WARNING,
            **local,
        )
        try:
            serve.start(http_options={"host": self.settings.host, "port": self.settings.port})
            serve.run(
                build_app(self.settings),
                name=self.settings.app_name,
                route_prefix=self.settings.route_prefix,
            )
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        if ray.is_initialized():
            serve.shutdown()  # type: ignore[no-untyped-call]  # Ray leaves it unannotated
            ray.shutdown()

    def __enter__(self) -> LocalRayServe:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
