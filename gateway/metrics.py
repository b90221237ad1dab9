"""The gateway's Prometheus metrics (names are a contract: dashboards use exactly these)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
CACHE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1)


M = TypeVar("M", Counter, Histogram)


class GatewayMetrics:
    """One set of metrics per app, in its own registry (tests run many apps in one process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self._children: dict[tuple[Any, ...], Any] = {}
        self.requests = Counter(
            "llmops_gateway_requests_total",
            "Requests answered by the gateway.",
            ["model", "team", "status", "cache"],
            registry=r,
        )
        self.duration = Histogram(
            "llmops_gateway_request_duration_seconds",
            "Time from request to the end of the response.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "llmops_gateway_time_to_first_token_seconds",
            "Time from request to the first generated token of a stream.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.overhead = Histogram(
            "llmops_gateway_overhead_seconds",
            "Time spent in the gateway itself (auth, limits, routing), upstream excluded.",
            buckets=OVERHEAD_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "llmops_gateway_tokens_total",
            "Tokens used, by kind (prompt or completion).",
            ["model", "team", "kind"],
            registry=r,
        )
        self.ratelimited = Counter(
            "llmops_gateway_ratelimited_total",
            "Requests refused by a rate limit.",
            ["team", "limit"],
            registry=r,
        )
        self.spend = Counter(
            "llmops_gateway_spend_total",
            "What requests cost, in the currency of the prices (budgets.currency).",
            ["team", "model"],
            registry=r,
        )
        self.unpriced = Counter(
            "llmops_gateway_unpriced_requests_total",
            "Requests answered by a model version with no price (counted as costing nothing).",
            ["model"],
            registry=r,
        )
        self.feedback = Counter(
            "llmops_feedback_total",
            "Feedback on answers (POST /v1/feedback): up, down or 1 to 5.",
            ["model", "version", "score"],
            registry=r,
        )
        self.budgets = BudgetGauges()
        r.register(self.budgets)
        self.upstream = Counter(
            "llmops_upstream_requests_total",
            "Requests sent to model replicas, by outcome.",
            ["model", "upstream", "outcome"],
            registry=r,
        )

        self._keys_stale = Counter(
            "llmops_gateway_keys_served_stale_total",
            "Requests whose key was served from what this replica last knew, while the key "
            "store was unreachable.",
            registry=r,
        )
        self.keys_served_stale = self._keys_stale.inc
        self.limits_bypassed = Counter(
            "llmops_gateway_limits_bypassed_total",
            "Requests admitted without limits because the limit store was unreachable "
            "(limits.fail_open).",
            registry=r,
        )
        self.routes_reloads = Counter(
            "llmops_gateway_routes_reloads_total",
            "Reads of the routes file that changed the routes (ok) or were rejected (error).",
            ["result"],
            registry=r,
        )
        self.cache_requests = Counter(
            "llmops_cache_requests_total",
            "Requests by what the response cache did: hit, miss or bypass.",
            ["result"],
            registry=r,
        )
        self.cache_rejections = Counter(
            "llmops_cache_rejections_total",
            "Near-matches the verifier refused, by the difference found.",
            ["reason"],
            registry=r,
        )
        self.cache_judged = Counter(
            "llmops_cache_judged_total",
            "Near-matches the verifier's rules refused and its judge looked at again, by "
            "outcome: served, refused, skipped (too many at once) or error.",
            ["outcome"],
            registry=r,
        )
        self.cache_checks = Counter(
            "llmops_cache_checks_total",
            "Verified near-matches answered by the replica and compared with the cached "
            "answer: audit (a would-be hit re-asked) or hold (not served anyway), by outcome "
            "(agree, disagree, or skipped: no text to compare, or too many checks at once).",
            ["model", "verdict", "outcome"],
            registry=r,
        )
        self.cache_lookup = Histogram(
            "llmops_cache_lookup_seconds",
            "Cache lookup time by tier (exact: the read; semantic: search and reads, "
            "embedding excluded).",
            ["tier"],
            buckets=CACHE_BUCKETS,
            registry=r,
        )

    def child(self, metric: M, *labels: str) -> M:
        """``metric.labels(*labels)``, remembered: the request path asks for the same few."""
        key = (id(metric), *labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found


class ReplicaGauges(Collector):
    """Read from the routing state when scraped (no cost per request):
    ``llmops_upstream_in_flight{model,upstream}``, the requests this gateway has at each
    replica, ``llmops_upstream_circuit_open{upstream}``, 1 while a replica's circuit
    is open or half-open, and ``llmops_upstream_healthy{upstream}``, 0 while the health
    checks keep it out of rotation."""

    def __init__(self, source: Callable[[], Iterable[tuple[str, str, int, bool, bool]]]) -> None:
        self._source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_flight = GaugeMetricFamily(
            "llmops_upstream_in_flight",
            "Requests this gateway has in flight at each model replica.",
            labels=["model", "upstream"],
        )
        circuit = GaugeMetricFamily(
            "llmops_upstream_circuit_open",
            "1 while the replica's circuit is open or half-open (requests held back).",
            labels=["upstream"],
        )
        healthy = GaugeMetricFamily(
            "llmops_upstream_healthy",
            "0 while the replica's health checks keep it out of rotation, else 1.",
            labels=["upstream"],
        )
        seen: set[str] = set()
        for model, upstream, count, open_, up in self._source():
            in_flight.add_metric([model, upstream], count)
            if upstream not in seen:
                seen.add(upstream)
                circuit.add_metric([upstream], 1.0 if open_ else 0.0)
                healthy.add_metric([upstream], 1.0 if up else 0.0)
        yield in_flight
        yield circuit
        yield healthy


class BoundGauges(Collector):
    """The cache's error bound, read when scraped, per model and namespace (``*``: all of
    the model's): ``llmops_cache_wrong_rate`` (the estimated wrong-hit rate where the tier
    serves, or of every checked candidate while it serves nothing),
    ``llmops_cache_wrong_rate_bound`` (its upper confidence bound),
    ``llmops_cache_semantic_threshold`` (the similarity it serves from; 0 while it serves
    nothing), ``llmops_cache_semantic_state{state}`` (1 for learning, on or off), and per
    model the would-be hits and those re-asked (``llmops_cache_would_hit_total``,
    ``llmops_cache_reasked_total``); ``llmops_cache_max_wrong_rate`` is the target."""

    def __init__(
        self,
        target: float,
        scopes: Callable[[], Iterable[tuple[str, str, str, float | None, float, float]]],
        reasked: Callable[[], Iterable[tuple[str, int, int]]],
    ) -> None:
        self._target = target
        self._scopes = scopes
        self._reasked = reasked

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        labels = ["model", "namespace"]
        rate = GaugeMetricFamily(
            "llmops_cache_wrong_rate",
            "Estimated share of semantic hits that are wrong.",
            labels=labels,
        )
        upper = GaugeMetricFamily(
            "llmops_cache_wrong_rate_bound",
            "Upper confidence bound of the semantic tier's wrong-hit rate.",
            labels=labels,
        )
        threshold = GaugeMetricFamily(
            "llmops_cache_semantic_threshold",
            "Similarity from which the semantic tier serves (0: it serves nothing).",
            labels=labels,
        )
        state = GaugeMetricFamily(
            "llmops_cache_semantic_state",
            "1 for the semantic tier's state: learning, on or off.",
            labels=[*labels, "state"],
        )
        for model, namespace, current, t, r, u in self._scopes():
            rate.add_metric([model, namespace], r)
            upper.add_metric([model, namespace], u)
            threshold.add_metric([model, namespace], t or 0.0)
            for name in ("learning", "on", "off"):
                state.add_metric([model, namespace, name], 1.0 if current == name else 0.0)
        would = CounterMetricFamily(
            "llmops_cache_would_hit",
            "Verified near-matches at or above the serving threshold.",
            labels=["model"],
        )
        asked = CounterMetricFamily(
            "llmops_cache_reasked",
            "Would-be semantic hits answered by the replica instead, to check them.",
            labels=["model"],
        )
        for model, n, audited in self._reasked():
            would.add_metric([model], n)
            asked.add_metric([model], audited)
        target = GaugeMetricFamily(
            "llmops_cache_max_wrong_rate", "The error bound's target (cache.max_wrong_rate)."
        )
        target.add_metric([], self._target)
        yield from (rate, upper, threshold, state, would, asked, target)


class BudgetGauges(Collector):
    """Each budget's share spent in its current period, as the last admission against it
    on this replica found it (every replica reads the same shared count):
    ``llmops_gateway_budget_used_ratio{team,budget}`` and
    ``llmops_gateway_budget_soft_threshold_reached{team,budget}`` (``budget``: ``team``, or
    a key's id). A budget's figures go when its period ends."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._seen: dict[tuple[str, str], tuple[float, bool, float]] = {}

    def observe(self, team: str, budget: str, ratio: float, reached: bool, ends: float) -> None:
        self._seen[(team, budget)] = (ratio, reached, ends)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        used = GaugeMetricFamily(
            "llmops_gateway_budget_used_ratio",
            "Share of the budget spent in its current period.",
            labels=["team", "budget"],
        )
        reached = GaugeMetricFamily(
            "llmops_gateway_budget_soft_threshold_reached",
            "1 when the budget's spent share is at or past budgets.soft_threshold.",
            labels=["team", "budget"],
        )
        now = self._clock()
        for key in [k for k, v in self._seen.items() if v[2] <= now]:
            del self._seen[key]
        for (team, budget), (ratio, over, _) in list(self._seen.items()):
            used.add_metric([team, budget], ratio)
            reached.add_metric([team, budget], 1.0 if over else 0.0)
        yield used
        yield reached
