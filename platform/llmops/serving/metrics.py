"""A replica's Prometheus metrics, in a registry of its own (tests run several apps in one process).

Request counters and latencies are recorded by the HTTP layer; the engine's gauges
(requests running and waiting, the largest batch, tokens generated) are read from
:meth:`Engine.stats` when Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from llmops.serving.engine import ModelEngine, Usage

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class _EngineCollector(Collector):
    def __init__(self, engine: ModelEngine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        stats = self._engine.stats()
        labels = {"model": self._engine.model, "version": self._engine.version}
        gauges = (
            ("llmops_serving_requests_running", "Requests being decoded.", stats.requests_running),
            (
                "llmops_serving_requests_waiting",
                "Requests waiting for a batch row.",
                stats.requests_waiting,
            ),
            (
                "llmops_serving_largest_batch",
                "Most requests decoded in one step.",
                stats.largest_batch,
            ),
        )
        for name, text, value in gauges:
            family = GaugeMetricFamily(name, text, labels=list(labels))
            family.add_metric(list(labels.values()), value)
            yield family
        tokens = CounterMetricFamily(
            "llmops_serving_generated_tokens", "Tokens the engine generated.", labels=list(labels)
        )
        tokens.add_metric(list(labels.values()), stats.tokens_generated)
        yield tokens


class ServingMetrics:
    """The metrics of one replica app."""

    def __init__(self, engine: ModelEngine) -> None:
        self.registry = CollectorRegistry()
        self._model = engine.model
        self.requests = Counter(
            "llmops_serving_requests_total",
            "Requests answered, by endpoint and outcome (ok, client_error, error, abandoned).",
            ["model", "endpoint", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "llmops_serving_request_duration_seconds",
            "Time from request to the end of the response.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "llmops_serving_tokens_total",
            "Tokens of answered requests, by kind (prompt or completion).",
            ["model", "kind"],
            registry=self.registry,
        )
        self.registry.register(_EngineCollector(engine))

    def answered(self, endpoint: str, outcome: str, seconds: float, usage: Usage | None) -> None:
        self.requests.labels(self._model, endpoint, outcome).inc()
        self.duration.labels(self._model).observe(seconds)
        if usage is not None:
            self.tokens.labels(self._model, "prompt").inc(usage.prompt_tokens)
            self.tokens.labels(self._model, "completion").inc(usage.completion_tokens)

    def render(self) -> bytes:
        return generate_latest(self.registry)
