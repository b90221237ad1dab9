"""Looking answers up and storing them: the cache as the request path sees it.

A lookup tries the exact tier (one read by hash), then, when the request has a
last message to compare, the semantic tier: embed it, search the namespace's
nearest entries, and take the first above the threshold that the verifier
accepts. The error bound (``bound``) then says whether that candidate is served,
or answered by the replica and compared (when the answer comes back, in ``store``).
Any failure of the store or the embedder makes the request a miss (or a bypass),
never an error: the cache only ever saves work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gateway.cache import agreement, judge, request, verifier
from gateway.cache.base import CacheStore, CacheStoreError, Entry
from gateway.cache.bound import ErrorBound, Verdict
from gateway.cache.embedding import CacheUnavailable, Embedder, Vector
from gateway.metrics import BoundGauges, GatewayMetrics
from gateway.openai_schema import ParsedRequest
from gateway.settings import CacheSettings

log = logging.getLogger("llmops.gateway.cache")

MAX_CHECKS = 16
"""Comparisons in flight at most: past it a check is skipped (and counted), so that checks
never queue up behind the request path's embeddings."""
MAX_JUDGING = 8
"""Candidates the judge looks at at once, at most (in its own thread): past it a candidate
is refused (and counted), so that lookups never queue up behind it."""


class Result(StrEnum):
    HIT = "hit"
    MISS = "miss"
    BYPASS = "bypass"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A verified near-match not served: the replica answers, and the two are compared."""

    entry: Entry
    similarity: float
    verdict: Verdict


@dataclass(slots=True)
class Lookup:
    """What the cache said about one request, and what it needs to store the answer."""

    result: Result
    plan: request.CachePlan | None = None
    version: str = ""
    entry: Entry | None = None
    similarity: float | None = None
    vector: Vector | None = None
    candidate: Candidate | None = None

    @property
    def storable(self) -> bool:
        return self.plan is not None


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    similarity: float
    exact: bool = False


class ResponseCache:
    def __init__(
        self,
        *,
        settings: CacheSettings,
        store: CacheStore,
        embedder: Embedder | None,
        metrics: GatewayMetrics,
        owns_embedder: bool = True,
        bound: ErrorBound | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._embedder = embedder if settings.semantic else None
        self._owns_embedder = owns_embedder
        self._metrics = metrics
        self._shared = frozenset(settings.shared_models)
        self._background: set[asyncio.Task[None]] = set()
        self._checking = 0
        self._judge: judge.Judge | None = None
        self._judging = 0
        self._judge_thread: ThreadPoolExecutor | None = None
        if bound is None and self._embedder is not None and settings.max_wrong_rate is not None:
            bound = ErrorBound(settings)
        self.bound = bound if self._embedder is not None else None
        self._gauges: BoundGauges | None = None
        if self.bound is not None:
            self._gauges = bound_gauges(self.bound)
            metrics.registry.register(self._gauges)

    async def start(self) -> None:
        await self._store.start()
        if self._embedder is not None and self._settings.verify:
            await asyncio.to_thread(verifier.warm)
            if self._settings.judge:
                self._judge = await asyncio.to_thread(judge.shared)
            if self._judge is not None:
                self._judge_thread = ThreadPoolExecutor(1, thread_name_prefix="cache-judge")

    async def drain(self) -> None:
        """Wait for the writes still in flight."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        if self._gauges is not None:
            self._metrics.registry.unregister(self._gauges)
            self._gauges = None
        await self._store.close()
        if self._judge_thread is not None:
            self._judge_thread.shutdown(wait=False, cancel_futures=True)
        if self._embedder is not None and self._owns_embedder:
            await self._embedder.close()

    async def ping(self) -> None:
        await self._store.ping()

    def count(self, result: Result) -> None:
        self._metrics.child(self._metrics.cache_requests, result.value).inc()

    def plan(
        self, parsed: ParsedRequest, team: str, headers: Mapping[str, str]
    ) -> request.CachePlan | request.Skip:
        """The cache's plan for a request (its keys: CPU in proportion to its size)."""
        return request.plan_for(
            parsed,
            team=team,
            headers=headers,
            namespace_header=self._settings.namespace_header,
            shared=parsed.model in self._shared,
            cache_sampled=self._settings.cache_sampled,
        )

    async def lookup(
        self,
        parsed: ParsedRequest,
        *,
        team: str,
        version: str,
        headers: Mapping[str, str],
        plan: request.CachePlan | request.Skip | None = None,
    ) -> Lookup:
        """What the cache holds; ``plan`` if it was made already (off the event loop)."""
        plan = plan if plan is not None else self.plan(parsed, team, headers)
        if isinstance(plan, request.Skip):
            return Lookup(Result.BYPASS)
        lookup = Lookup(Result.MISS if plan.lookup else Result.BYPASS, plan, version)
        if not plan.lookup:
            return lookup
        try:
            match = await self._find(plan, version, lookup)
        except (CacheStoreError, CacheUnavailable) as e:
            log.warning("cache lookup failed: answering without it", extra={"error": str(e)})
            return Lookup(Result.BYPASS, plan, version, vector=lookup.vector)
        if match is not None and not match.exact and self.bound is not None:
            verdict = self.bound.decide(plan.model, plan.scope, match.similarity)
            if verdict is not Verdict.SERVE:
                lookup.candidate = Candidate(match.entry, match.similarity, verdict)
                match = None
        if match is not None:
            lookup.result, lookup.entry, lookup.similarity = (
                Result.HIT,
                match.entry,
                match.similarity,
            )
        return lookup

    async def _find(self, plan: request.CachePlan, version: str, lookup: Lookup) -> Match | None:
        namespace = plan.namespace(version)
        started = time.perf_counter()
        entry = await self._store.get(namespace, plan.exact_key(namespace))
        self._metrics.child(self._metrics.cache_lookup, "exact").observe(
            time.perf_counter() - started
        )
        if entry is not None and entry.scope == plan.scope:
            return Match(entry, 1.0, exact=True)  # the same question: no bound applies
        if self._embedder is None or plan.text is None:
            return None
        lookup.vector = vector = await self._embedder.embed(plan.text)
        started = time.perf_counter()
        try:
            return await self._nearest(plan, namespace, vector)
        finally:
            self._metrics.child(self._metrics.cache_lookup, "semantic").observe(
                time.perf_counter() - started
            )

    async def _nearest(
        self, plan: request.CachePlan, namespace: str, vector: Vector
    ) -> Match | None:
        assert plan.text is not None
        settings = self._settings
        for key, similarity in await self._store.similar(namespace, vector, settings.candidates):
            if similarity < settings.similarity_threshold:
                break
            entry = await self._store.get(namespace, key)
            if entry is None or entry.scope != plan.scope:
                continue
            if not settings.verify:
                return Match(entry, similarity)
            compared = verifier.compare(plan.text, entry.text)
            found = compared.difference
            if found not in (None, verifier.Difference.LANGUAGE) and await self._judged(
                plan.text, entry.text, similarity, compared
            ):
                found = None
            if found is None:
                return Match(entry, similarity)
            self._metrics.child(self._metrics.cache_rejections, found.value).inc()
        return None

    async def _judged(
        self, query: str, cached: str, similarity: float, compared: verifier.Comparison
    ) -> bool:
        """Whether the judge serves a candidate the rules refused (never raises: a
        failure is a refusal, logged and counted)."""
        if self._judge is None or self._judge_thread is None:
            return False
        outcome = self._metrics.cache_judged
        if self._judging >= MAX_JUDGING:
            self._metrics.child(outcome, "skipped").inc()
            return False
        self._judging += 1
        try:
            loop = asyncio.get_running_loop()
            served = await loop.run_in_executor(
                self._judge_thread, self._judge.same, query, cached, similarity, compared
            )
        except Exception:  # the cache only ever saves work: a miss, never an error
            log.exception("cache judge failed: the candidate is refused")
            self._metrics.child(outcome, "error").inc()
            return False
        finally:
            self._judging -= 1
        self._metrics.child(outcome, "served" if served else "refused").inc()
        return served

    def store(
        self,
        lookup: Lookup,
        *,
        response: bytes,
        stream: bool,
        version: str,
        reported: str,
        team: str,
        subjects: tuple[str, ...],
    ) -> None:
        """Keep a complete answer (in the background: the client does not wait for it)
        under ``version``, the configured version whose replica answered; ``reported``
        is what the answer said of its version. It lives as long as ``team``'s retention
        says, listed under ``subjects`` for erasure."""
        plan = lookup.plan
        if plan is not None and lookup.candidate is not None and self.bound is not None:
            if self._checking < MAX_CHECKS:
                self._checking += 1
                self._spawn(self._check(plan, lookup.candidate, response, stream))
            else:
                self._count_check(plan.model, lookup.candidate.verdict, "skipped")
        ttl = self._settings.ttl_seconds_by_team.get(team, self._settings.ttl_seconds)
        if plan is None or len(response) > self._settings.max_entry_bytes or ttl <= 0:
            return
        namespace = plan.namespace(version)
        entry = Entry(
            namespace=namespace,
            key=plan.exact_key(namespace),
            scope=plan.scope,
            text=plan.text or "",
            response=response,
            stream=stream,
            version=reported,
            created=time.time(),
            ttl=ttl,
            subjects=subjects,
        )
        self._spawn(self._put(entry, plan.text, lookup.vector))

    async def forget(self, subject: str, *, dry_run: bool = False) -> int:
        """Delete the entries of ``subject`` (``team:``, ``key:`` or ``user:``, as
        :class:`~gateway.cache.base.Entry` lists them), after the writes in flight; the
        readings of texts this process keeps for the verifier go too."""
        await self.drain()
        count = await self._store.forget(subject, dry_run=dry_run)
        if not dry_run:
            verifier.forget_texts()
            if self._judge is not None:
                self._judge.forget()
        return count

    async def _put(self, entry: Entry, text: str | None, vector: Vector | None) -> None:
        try:
            if vector is None and text is not None and self._embedder is not None:
                vector = await self._embedder.embed(text)
            await self._store.put(entry, vector)
        except (CacheStoreError, CacheUnavailable) as e:
            log.warning("cache store failed", extra={"error": str(e)})

    async def _check(
        self, plan: request.CachePlan, candidate: Candidate, response: bytes, stream: bool
    ) -> None:
        """Compares the replica's answer with the candidate's and tells the bound."""
        assert self.bound is not None
        try:
            agreed = await self._agree(candidate, response, stream)
        except CacheUnavailable as e:
            log.warning("cache check failed", extra={"error": str(e)})
            agreed = None
        except Exception:
            log.exception("cache check failed")
            agreed = None
        finally:
            self._checking -= 1
        if agreed is None:
            self._count_check(plan.model, candidate.verdict, "skipped")
            return
        self.bound.record(
            plan.model,
            plan.scope,
            candidate.similarity,
            wrong=not agreed,
            verdict=candidate.verdict,
        )
        self._count_check(plan.model, candidate.verdict, "agree" if agreed else "disagree")

    async def _agree(self, candidate: Candidate, response: bytes, stream: bool) -> bool | None:
        """Whether the answers agree; None when either has no text to compare."""
        fresh = agreement.answer_text(response, stream=stream)
        cached = agreement.answer_text(candidate.entry.response, stream=candidate.entry.stream)
        if fresh is None or cached is None:
            return None
        return await agreement.agree(cached, fresh, self._embedder, self._settings.answer_agreement)

    def _count_check(self, model: str, verdict: Verdict, outcome: str) -> None:
        self._metrics.child(self._metrics.cache_checks, model, verdict.value, outcome).inc()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def bound_gauges(bound: ErrorBound) -> BoundGauges:
    """The bound's estimate per scope and its re-asked counts, read when scraped."""
    return BoundGauges(
        bound.target,
        lambda: (
            (model, team, e.state.value, e.threshold, e.rate, e.upper)
            for model, team, e in bound.scopes()
        ),
        bound.reasked,
    )
