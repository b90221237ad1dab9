"""The gateway's configuration: one typed object built at start-up and passed down."""

from __future__ import annotations

import os
import zoneinfo
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from gateway.guardrails.policy import GuardrailSettings
from llmops import settings as core_settings

DEFAULT_DATABASE_URL = "sqlite:///.llmops/gateway.db"
# Public, so only good for trying things out: start-up refuses it unless allowed.
DEFAULT_KEY_HASH_SECRET = "llmops-default-key-hash-secret"  # noqa: S105

# Who an admin token speaks for, as the audit trail names them.
ActorName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Strategy = Literal["least_outstanding", "round_robin", "session", "prefix"]


def _urls(urls: list[AnyHttpUrl]) -> list[str]:
    return [str(u).rstrip("/") for u in urls]


PriceValue = Annotated[Decimal, Field(ge=0, le=1_000_000, decimal_places=9, allow_inf_nan=False)]


class Price(_Strict):
    """What a model's tokens cost, per million tokens, in ``budgets.currency``."""

    input: PriceValue
    output: PriceValue
    cached_input: PriceValue | None = None
    """Prompt tokens the replica read from its prefix cache (``cached_tokens`` in the
    usage); the ``input`` price when not given."""


class VersionRoute(_Strict):
    """One version of a model, its share of the traffic and its replicas."""

    version: Annotated[str, Field(min_length=1, max_length=128)]
    weight: Annotated[float, Field(ge=0)] = 1.0
    upstreams: Annotated[list[AnyHttpUrl], Field(min_length=1)]
    price: Price | None = None
    """This version's price, over the model's."""

    def upstream_urls(self) -> list[str]:
        return _urls(self.upstreams)


class ShadowRoute(_Strict):
    """A version that sees a share of a model's requests without answering anyone: its
    answers, latency and errors go to the request log (rows marked ``shadow``)."""

    version: Annotated[str, Field(min_length=1, max_length=128)]
    upstreams: Annotated[list[AnyHttpUrl], Field(min_length=1)]
    share: Annotated[float, Field(ge=0, le=1)] = 1.0
    """The share of the model's requests mirrored to it."""
    max_in_flight: Annotated[int, Field(ge=1, le=10_000)] = 8
    """Mirrored requests waiting on it at once; beyond, requests are not mirrored."""
    timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 120.0

    def upstream_urls(self) -> list[str]:
        return _urls(self.upstreams)


class ModelRoute(_Strict):
    """A model name that clients send, the versions and replicas that serve it, and how
    requests are spread over them. ``upstreams`` (with ``version``) is the short form of
    a single version; ``versions`` splits traffic by weight (a canary)."""

    name: Annotated[str, Field(min_length=1)]
    upstreams: list[AnyHttpUrl] = Field(default_factory=list)
    version: str | None = None
    """Reported in ``x-llmops-model-version`` when the replica does not say."""
    versions: list[VersionRoute] = Field(default_factory=list)
    tokenizer: Path | None = None
    """A ``tokenizer.json`` used to count prompt tokens; without it tokens are estimated."""
    strategy: Strategy = "least_outstanding"
    session_header: str = "x-session-id"
    """For ``session``: the header naming a session (else the body's ``user`` field)."""
    prefix_tokens: Annotated[int, Field(ge=1, le=4096)] = 64
    """For ``prefix``: how much of the prompt's start picks the replica (KV-cache reuse)."""
    fallbacks: list[str] = Field(default_factory=list)
    """Models tried in order when no replica of this one can answer."""
    price: Price | None = None
    """The price of every version that names none; without any, the model costs nothing
    (its requests are counted in ``llmops_gateway_unpriced_requests_total``)."""
    shadow: ShadowRoute | None = None
    teams: dict[str, str] = Field(default_factory=dict)
    """Teams pinned to a version (an A/B test by team): team name to version name. A pinned
    team's requests go to its version while it has a replica available."""

    @model_validator(mode="after")
    def _one_form(self) -> ModelRoute:
        if bool(self.upstreams) == bool(self.versions):
            raise ValueError(f"model {self.name!r}: give either 'upstreams' or 'versions'")
        names = [v.version for v in self.versions]
        if len(set(names)) != len(names):
            raise ValueError(f"model {self.name!r}: version names must be unique")
        if self.versions and not any(v.weight > 0 for v in self.versions):
            raise ValueError(f"model {self.name!r}: at least one version needs a weight above 0")
        served = {v.version for v in self.version_routes()}
        for team, version in self.teams.items():
            if version not in served:
                raise ValueError(
                    f"model {self.name!r}: team {team!r} is pinned to {version!r}, which is "
                    f"not one of its versions ({', '.join(sorted(served))})"
                )
        return self

    def version_routes(self) -> list[VersionRoute]:
        if self.versions:
            return list(self.versions)
        return [
            VersionRoute(
                version=self.version or self.name,
                weight=1.0,
                upstreams=list(self.upstreams),
                price=self.price,
            )
        ]

    def price_of(self, version: VersionRoute) -> Price | None:
        return version.price or self.price

    def upstream_urls(self) -> list[str]:
        return [u for v in self.version_routes() for u in v.upstream_urls()]


def check_models(models: list[ModelRoute]) -> list[ModelRoute]:
    """``models`` when their names are unique and their fallbacks name each other;
    raises ``ValueError`` saying what is wrong."""
    names = [m.name for m in models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"model names must be unique, repeated: {', '.join(duplicates)}")
    for model in models:
        unknown = [f for f in model.fallbacks if f not in names or f == model.name]
        if unknown:
            raise ValueError(
                f"model {model.name!r}: fallbacks must name other configured models, "
                f"not {', '.join(unknown)}"
            )
    return models


class RetrySettings(_Strict):
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    """Attempts per request, over different replicas, on connect errors and 5xx answers
    that came before any byte was relayed."""
    budget_ratio: Annotated[float, Field(ge=0, le=1)] = 0.2
    """Retries allowed as a share of recent requests, across all requests."""
    budget_floor_per_second: Annotated[float, Field(ge=0)] = 5.0
    backoff_base_seconds: Annotated[float, Field(ge=0)] = 0.025
    backoff_max_seconds: Annotated[float, Field(ge=0)] = 0.5


class CircuitSettings(_Strict):
    failure_threshold: Annotated[int, Field(ge=1)] = 5
    """Failures in a row that open a replica's circuit."""
    open_seconds: Annotated[float, Field(gt=0)] = 5.0
    max_open_seconds: Annotated[float, Field(gt=0)] = 60.0


class HealthSettings(_Strict):
    interval_seconds: Annotated[float, Field(ge=0)] = 0.5
    """How long between two rounds of probes (``GET <upstream>/models``); 0 turns probes
    off. The probe must answer while the replica is busy (the engines' does)."""
    timeout_seconds: Annotated[float, Field(gt=0)] = 1.0
    unhealthy_after: Annotated[int, Field(ge=1)] = 2
    """Failed probes in a row that take a replica out of rotation (one success brings
    it back). One is enough for a replica with requests in flight that answered none
    since the probe was sent: it is hung, and the requests waiting on it are tried on
    other replicas. A hung replica is out within ``interval_seconds`` +
    ``timeout_seconds``."""


class RoutingSettings(_Strict):
    retries: RetrySettings = RetrySettings()
    circuit: CircuitSettings = CircuitSettings()
    health: HealthSettings = HealthSettings()


class LimitSettings(_Strict):
    window_seconds: Annotated[float, Field(gt=0)] = 60.0
    default_max_tokens: Annotated[int, Field(ge=1)] = 512
    """Completion tokens reserved when a request names no ``max_tokens``."""
    fail_open: bool = False
    """Admit requests when the limit store is unreachable (else answer 503)."""
    store_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 1.0
    """How long an admission waits on Redis before the store counts as unreachable."""
    large_body_cpu_share: Annotated[float, Field(gt=0, le=1)] = 0.1
    """Share of one CPU that a key's large bodies (64 KiB or more) may take to be parsed
    and counted; past it, the key's next large body waits its turn."""
    large_body_max_wait_seconds: Annotated[float, Field(ge=0)] = 2.0
    """A large body that would wait longer for its key's share is refused (429
    ``large_body_share_exceeded``, with ``retry-after``)."""


class UpstreamSettings(_Strict):
    connect_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    read_timeout_seconds: Annotated[float, Field(gt=0)] = 300.0
    max_connections: Annotated[int, Field(ge=1)] = 1000
    """Connections to replicas in all; a request waits at most ``connect_timeout_seconds``
    for one to be free (then tries another replica)."""
    keepalive_seconds: Annotated[float, Field(gt=0)] = 60.0
    max_response_bytes: Annotated[int, Field(ge=1024)] = 32 * 1024 * 1024
    """A replica's whole (non-streamed) answer larger than this is refused (502)."""
    max_event_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    """One server-sent event of a stream larger than this breaks the stream off."""


class UpstreamCredential(_Strict):
    """How the gateway authenticates to the upstreams whose URL starts with ``url_prefix``."""

    url_prefix: Annotated[str, Field(min_length=1)]
    api_key_env: str | None = None
    """An environment variable holding the key."""
    api_key_file: Path | None = None
    """A file holding the key (a mounted Secret), read again when it changes."""
    header: str = "authorization"
    scheme: str = "Bearer"
    """Put before the key in the header ("" for none: ``api-key: <key>``)."""
    _env_key: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_source(self) -> UpstreamCredential:
        if (self.api_key_env is None) == (self.api_key_file is None):
            raise ValueError("give exactly one of api_key_env and api_key_file")
        if self.api_key_env is not None:  # read with the settings, once
            self._env_key = os.environ.get(self.api_key_env) or None
        return self

    @property
    def env_key(self) -> str | None:
        """The key ``api_key_env`` named, as the environment held it when loaded."""
        return self._env_key


class TracingSettings(_Strict):
    otlp_endpoint: AnyHttpUrl | None = None
    """OTLP/HTTP endpoint (http://collector:4318/v1/traces); tracing is off without it."""
    service_name: str = "llmops-gateway"
    sample_ratio: Annotated[float, Field(ge=0, le=1)] = 1.0


UNBOUNDED_THRESHOLD = 0.88
"""The default similarity threshold when the error bound is off."""


class CacheSettings(_Strict):
    """The response cache (off unless enabled: reusing answers is a choice per deployment)."""

    enabled: bool = False
    store: Literal["memory", "redis"] = "memory"
    """``redis`` shares entries across gateway replicas (through ``redis_url``)."""
    semantic: bool = True
    """Also reuse answers to reworded questions (needs the ``cache`` extra); else exact only."""
    similarity_threshold: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Cosine similarity of the last messages' embeddings from which an entry is a candidate
    for the verifier; the error bound chooses, at or above it, where candidates are served."""
    verify: bool = True
    """Serve a near-match only when every word pairs with one of the cached question, in
    the same roles and order (see ``gateway/cache/verifier.py``)."""
    judge: bool = True
    """Where those rules refuse a near-match only for other words or another order, ask
    the judge's model (``gateway/cache/judge.py``; needs the ``cache`` extra): a few
    milliseconds per such candidate, in a worker thread."""
    max_wrong_rate: Annotated[float, Field(gt=0, lt=1)] | None = 0.01
    """The error bound: the semantic tier serves only where the upper confidence bound of
    its wrong-hit rate, measured against the replica's own answers, is at most this.
    None: no bound (every verified candidate above the threshold is served)."""
    audit_share: Annotated[float, Field(ge=0, le=0.5)] = 0.05
    """The most of the would-be semantic hits the replica answers instead, to check them."""
    bound_confidence: Annotated[float, Field(ge=0.5, lt=1)] = 0.95
    """One-sided confidence of the bound."""
    bound_min_samples: Annotated[int, Field(ge=10)] = 200
    """Checked answers (effective number) before a threshold may be trusted."""
    bound_loosen_margin: Annotated[float, Field(gt=0, le=1)] = 0.8
    """A lower threshold is taken only when its bound is below this share of the target."""
    bound_bin_width: Annotated[float, Field(gt=0, le=0.2)] = 0.02
    """Width of the similarity bins the thresholds are chosen from."""
    bound_window: Annotated[int, Field(ge=100)] = 5000
    """Checked answers per scope past which older evidence counts half."""
    answer_agreement: Annotated[float, Field(gt=0, le=1)] = 0.95
    """Two answers agree when they are equal, or hold the same numbers and negations and
    their texts' embeddings are at least this similar."""
    candidates: Annotated[int, Field(ge=1, le=32)] = 4
    """Nearest entries checked per lookup."""
    ttl_seconds: Annotated[float, Field(gt=0)] = 3600.0
    ttl_seconds_by_team: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    """Teams whose answers are kept for another time than ``ttl_seconds`` (0: never kept)."""
    max_bytes: Annotated[int, Field(ge=1024 * 1024)] = 256 * 1024 * 1024
    """Bound on the entries' memory (in this process, or in Redis)."""
    max_entries: Annotated[int, Field(ge=1)] = 1_000_000
    """Bound on all entries (Redis, and each replica's mirror of its vectors)."""
    max_entries_per_namespace: Annotated[int, Field(ge=1)] = 100_000
    mirror_max_entries: Annotated[int, Field(ge=1)] = 100_000
    """Vectors each replica keeps of the shared (Redis) cache, the most recent first: about
    1.6 KB each (150 MB by default); older entries are still found by the exact tier."""
    max_entry_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    """Answers larger than this are not kept."""
    cache_sampled: bool = False
    """Also cache requests with temperature above 0 (OpenAI's default is 1)."""
    shared_models: list[str] = Field(default_factory=list)
    """Models whose answers every team may reuse (the cache never crosses teams otherwise)."""
    namespace_header: str = "x-llmops-cache-namespace"
    """A client header that splits the cache further (per user, per document...)."""
    embedding_batch: Annotated[int, Field(ge=1, le=256)] = 32
    embedding_threads: Annotated[int, Field(ge=1, le=64)] = 1
    store_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 0.5

    @model_validator(mode="after")
    def _threshold_without_bound(self) -> CacheSettings:
        """Without the bound nothing narrows the candidates the verifier accepts: the
        default threshold is then the stricter 0.88."""
        if self.max_wrong_rate is None and "similarity_threshold" not in self.model_fields_set:
            object.__setattr__(self, "similarity_threshold", UNBOUNDED_THRESHOLD)
        return self


class RequestLogSettings(_Strict):
    """The request log (one row per request, for monitoring), written off the request path."""

    enabled: bool = True
    text_sample_rate: Annotated[float, Field(ge=0, le=1)] = 1.0
    """Share of requests whose prompt and completion text are kept (redacted); the other
    rows keep only figures."""
    max_text_chars: Annotated[int, Field(ge=0)] = 8000
    """Longer texts are cut to this many characters before redaction."""
    queue_size: Annotated[int, Field(ge=1)] = 10000
    queue_max_chars: Annotated[int, Field(ge=0)] = 16 * 1024 * 1024
    """Characters of texts the queue holds at most (each row's texts are cut to
    ``max_text_chars`` when queued); past it, rows are queued without their texts."""
    """Rows waiting to be written; past it new rows are dropped (and counted), never waited on."""
    batch_size: Annotated[int, Field(ge=1)] = 500
    flush_seconds: Annotated[float, Field(gt=0)] = 1.0
    """The longest a row waits for its batch to fill."""
    write_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    """A write slower than this is logged, and waited for (one insert at a time: rows
    queue meanwhile); at shutdown, the longest a batch is waited for."""
    retention_days: Annotated[float, Field(ge=0)] = 30.0
    retention_days_by_team: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    """Teams whose rows are kept for another time than ``retention_days`` (0: forever)."""
    """Rows older than this are deleted; 0 keeps them forever."""
    prune_interval_seconds: Annotated[float, Field(gt=0)] = 3600.0


class BudgetSettings(_Strict):
    """Spend and budgets: what requests cost (``price`` on the models) and how much a team
    or a key may spend per calendar day or month."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    """The currency prices and budgets are written in (a name only: nothing is converted)."""
    timezone: str = "UTC"
    """The time zone whose midnights start budget periods and spend reports' days."""
    soft_threshold: Annotated[float, Field(gt=0, le=1)] = 0.8
    """Share of a budget past which ``llmops_gateway_budget_soft_threshold_reached`` is 1
    (and the chart's alert fires)."""
    retry_hint_max_seconds: Annotated[float, Field(ge=0)] = 60.0
    """A refusal whose budget resets later than this says ``x-should-retry: false``."""
    flush_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    """How often each replica adds the spend it settled to the spend table (kept in memory
    meanwhile, and through a database outage)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r} (an IANA name: Europe/Paris)") from e
        return value


class ReadinessSettings(_Strict):
    """When a failing background loop takes the pod out of rotation, then restarts it."""

    loop_grace_seconds: Annotated[float, Field(gt=0)] = 30.0
    """A background loop failing (and restarting) for longer: ``/readyz`` says not ready."""
    liveness_grace_seconds: Annotated[float, Field(gt=0)] = 300.0
    """For longer still: ``/healthz`` fails, and the kubelet restarts the pod."""


class PrivacySettings(_Strict):
    """Where else erasure looks (``llmops privacy forget``, ``POST /admin/privacy/forget``)."""

    window_dirs: list[Path] = Field(default_factory=list)
    """Directories of exported retraining windows (the drift monitor's ``state_dir`` and
    any ``drift check --export`` target): a forgotten subject's lines are removed there."""
    tracking_uri: str | None = None
    """The MLflow registry whose versions' lineage says which were trained on those files."""


class GatewaySettings(_Strict):
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    """Shared limits across replicas; without it limits are kept in this process."""
    admin_token: Annotated[str, Field(min_length=16)] | None = None
    """Bearer token for ``/admin``, the actor ``admin``'s (see ``admin_tokens``); the admin
    API is off without any token."""
    admin_tokens: dict[ActorName, Annotated[str, Field(min_length=16)]] = Field(
        default_factory=dict
    )
    """Admin tokens per actor (a person, a CI job, the operator): the audit trail names
    the actor whose token was used; revoking one actor leaves the others working."""
    admin_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """A listener of its own (on ``host``) for ``/admin`` and ``/metrics``, which the
    public listener then answers 404 for. Unset, they share the public listener."""
    key_hash_secret: Annotated[str, Field(min_length=16)] = DEFAULT_KEY_HASH_SECRET
    """Secret of the keyed hash under which API keys are stored. The gateway refuses to
    start with the public default unless ``allow_default_secret`` is set."""
    allow_default_secret: bool = False
    """Start with the public default ``key_hash_secret`` (a throwaway local gateway only;
    ``llmops up`` generates its own secrets)."""
    key_cache_seconds: Annotated[float, Field(ge=0, le=60)] = 2.0
    """How long a replica trusts a looked-up key: revocations reach every replica this fast."""
    upstream_credentials: list[UpstreamCredential] = Field(default_factory=list)
    """Keys sent to upstreams that want one (hosted OpenAI-compatible services)."""
    auth_failures_per_minute: Annotated[int, Field(ge=0)] = 60
    """Unknown keys one address may try per minute; past it, its unknown keys are refused
    (429) without a database query until the minute has passed (0: no limit)."""
    expose_upstreams: bool = False
    """Show replicas' URLs in ``x-llmops-upstream`` (for debugging); otherwise an opaque
    ``replica-<hash>`` names them, and errors never tell internal addresses."""
    key_stale_seconds: Annotated[float, Field(ge=0)] = 600.0
    """While the key store is unreachable, a key seen valid this recently is still served
    (a revocation made during the outage takes effect when the store answers again)."""
    key_refresh_wait_seconds: Annotated[float, Field(gt=0)] = 0.25
    """How long a request waits on the store to look again at a key seen valid before it
    is served as last seen (within ``key_stale_seconds``): a slow or blackholed database
    adds at most this to such requests, and nothing to those that come while that lookup
    is still pending or while the last lookup failed. The lookup goes on; a revocation it
    finds takes effect when it answers."""
    database_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    """Connecting to PostgreSQL, waiting for a pooled connection, and each statement: a
    blackholed database fails requests fast instead of holding them."""
    migrate_on_start: bool = True
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True
    models: list[ModelRoute] = Field(default_factory=list)
    routes_file: Path | None = None
    """A routes file (``{"models": [...]}``, the operator's ``llmops-routes`` ConfigMap
    mounted in the pod): its models are merged over ``models`` (same name: the file
    wins) and re-read when it changes, without a restart."""
    routes_poll_seconds: Annotated[float, Field(gt=0, le=300)] = 2.0
    limits: LimitSettings = LimitSettings()
    upstream: UpstreamSettings = UpstreamSettings()
    tracing: TracingSettings = TracingSettings()
    routing: RoutingSettings = RoutingSettings()
    cache: CacheSettings = CacheSettings()
    request_log: RequestLogSettings = RequestLogSettings()
    privacy: PrivacySettings = PrivacySettings()
    readiness: ReadinessSettings = ReadinessSettings()
    budgets: BudgetSettings = BudgetSettings()
    guardrails: GuardrailSettings = GuardrailSettings()

    @model_validator(mode="after")
    def _cache_store(self) -> GatewaySettings:
        if self.cache.enabled and self.cache.store == "redis" and not self.redis_url:
            raise ValueError("cache.store 'redis' needs redis_url")
        return self

    @model_validator(mode="after")
    def _admin(self) -> GatewaySettings:
        tokens = list(self.admin_tokens.values())
        if self.admin_token is not None:
            if "admin" in self.admin_tokens:
                raise ValueError("admin_tokens names 'admin': that is admin_token's actor")
            tokens.append(self.admin_token)
        if len(set(tokens)) != len(tokens):
            raise ValueError("two admin actors share a token: each needs its own")
        if self.admin_port is not None and self.admin_port == self.port:
            raise ValueError("admin_port must differ from port")
        return self

    def admin_actors(self) -> dict[str, str]:
        """Each admin token's actor."""
        actors = {token: actor for actor, token in self.admin_tokens.items()}
        if self.admin_token is not None:
            actors[self.admin_token] = "admin"
        return actors

    @field_validator("models")
    @classmethod
    def _unique_names(cls, models: list[ModelRoute]) -> list[ModelRoute]:
        return check_models(models)

    def model_route(self, name: str) -> ModelRoute | None:
        return next((m for m in self.models if m.name == name), None)


def load(path: Path | None, **overrides: object) -> GatewaySettings:
    """Settings from a YAML file, ``LLMOPS_`` variables and command-line overrides."""
    return core_settings.load(GatewaySettings, path, overrides=overrides)
