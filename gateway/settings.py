"""The gateway's configuration: one typed object built at start-up and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from llmops import settings as core_settings

DEFAULT_DATABASE_URL = "sqlite:///.llmops/gateway.db"
# Public, so only good for trying things out; start-up warns while it is in use.
DEFAULT_KEY_HASH_SECRET = "llmops-default-key-hash-secret"  # noqa: S105


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelRoute(_Strict):
    """A model name that clients send and the replicas that serve it."""

    name: Annotated[str, Field(min_length=1)]
    upstreams: Annotated[list[AnyHttpUrl], Field(min_length=1)]
    tokenizer: Path | None = None
    """A ``tokenizer.json`` used to count prompt tokens; without it tokens are estimated."""
    version: str | None = None
    """Reported in ``x-llmops-model-version`` when the replica does not say."""

    @field_validator("upstreams")
    @classmethod
    def _no_trailing_slash(cls, urls: list[AnyHttpUrl]) -> list[AnyHttpUrl]:
        return [AnyHttpUrl(str(u).rstrip("/")) for u in urls]

    def upstream_urls(self) -> list[str]:
        return [str(u).rstrip("/") for u in self.upstreams]


class LimitSettings(_Strict):
    window_seconds: Annotated[float, Field(gt=0)] = 60.0
    default_max_tokens: Annotated[int, Field(ge=1)] = 512
    """Completion tokens reserved when a request names no ``max_tokens``."""
    fail_open: bool = False
    """Admit requests when the limit store is unreachable (else answer 503)."""
    store_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 1.0
    """How long an admission waits on Redis before the store counts as unreachable."""


class UpstreamSettings(_Strict):
    connect_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    read_timeout_seconds: Annotated[float, Field(gt=0)] = 300.0
    max_connections: Annotated[int, Field(ge=1)] = 1000
    keepalive_seconds: Annotated[float, Field(gt=0)] = 60.0


class TracingSettings(_Strict):
    otlp_endpoint: AnyHttpUrl | None = None
    """OTLP/HTTP endpoint (http://collector:4318/v1/traces); tracing is off without it."""
    service_name: str = "llmops-gateway"
    sample_ratio: Annotated[float, Field(ge=0, le=1)] = 1.0


class GatewaySettings(_Strict):
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    """Shared limits across replicas; without it limits are kept in this process."""
    admin_token: Annotated[str, Field(min_length=16)] | None = None
    """Bearer token for ``/admin``; the admin API is off without it."""
    key_hash_secret: Annotated[str, Field(min_length=16)] = DEFAULT_KEY_HASH_SECRET
    """Secret of the keyed hash under which API keys are stored. Set it in production:
    the gateway warns at start-up while the default is in use."""
    key_cache_seconds: Annotated[float, Field(ge=0, le=60)] = 2.0
    """How long a replica trusts a looked-up key: revocations reach every replica this fast."""
    migrate_on_start: bool = True
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True
    models: list[ModelRoute] = Field(default_factory=list)
    limits: LimitSettings = LimitSettings()
    upstream: UpstreamSettings = UpstreamSettings()
    tracing: TracingSettings = TracingSettings()

    @field_validator("models")
    @classmethod
    def _unique_names(cls, models: list[ModelRoute]) -> list[ModelRoute]:
        names = [m.name for m in models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"model names must be unique, repeated: {', '.join(duplicates)}")
        return models

    def model_route(self, name: str) -> ModelRoute | None:
        return next((m for m in self.models if m.name == name), None)


def load(path: Path | None, **overrides: object) -> GatewaySettings:
    """Settings from a YAML file, ``LLMOPS_`` variables and command-line overrides."""
    return core_settings.load(GatewaySettings, path, overrides=overrides)
