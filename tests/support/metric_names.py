"""Every metric series name the platform exports, read from the Prometheus registries its
components build (not from a list kept by hand), plus vLLM's own.

Dashboards and alerts may use only these names.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry

from gateway.guardrails.policy import GuardrailSettings
from gateway.guardrails.service import Guardrails
from gateway.metrics import BoundGauges, GatewayMetrics, ReplicaGauges
from llmops.monitoring.metrics import DriftMetrics
from llmops.serving.metrics import ServingMetrics
from llmops.serving.settings import ServingSettings
from llmops.serving.vllm import VllmEngine
from operators.metrics import OperatorMetrics

# vLLM's V1 engine metrics (vLLM 0.33, docs "Production Metrics"), which its replicas
# export; vLLM is not installed beside the CPU stack, so they cannot be read from it here.
VLLM_SERIES = frozenset(
    {
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
        "vllm:num_preemptions_total",
        "vllm:prompt_tokens_total",
        "vllm:generation_tokens_total",
        "vllm:request_success_total",
        *(
            f"{name}_{suffix}"
            for name in (
                "vllm:time_to_first_token_seconds",
                "vllm:inter_token_latency_seconds",
                "vllm:e2e_request_latency_seconds",
                "vllm:request_queue_time_seconds",
            )
            for suffix in ("bucket", "sum", "count")
        ),
    }
)

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}


def series_names(registries: Iterable[CollectorRegistry]) -> set[str]:
    """The sample names Prometheus stores for every metric family of the registries."""
    names: set[str] = set()
    for registry in registries:
        for family in registry.collect():
            names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",)))
            names.update(sample.name for sample in family.samples)
    return names


def _registries() -> list[CollectorRegistry]:
    gateway = GatewayMetrics()
    gateway.registry.register(ReplicaGauges(lambda: []))
    gateway.registry.register(BoundGauges(0.01, lambda: [], lambda: []))
    # The guardrails' counters, on the gateway's registry as the app puts them.
    Guardrails(GuardrailSettings(), scorer=None, store=None, registry=gateway.registry)
    serving = ServingMetrics(VllmEngine(ServingSettings(engine="vllm")))
    return [gateway.registry, serving.registry, DriftMetrics().registry, OperatorMetrics().registry]


def platform_series() -> set[str]:
    return series_names(_registries())


def exported_series() -> set[str]:
    """The platform's series and vLLM's."""
    return platform_series() | VLLM_SERIES
