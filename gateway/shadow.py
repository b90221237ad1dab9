"""Shadow traffic: a share of a model's requests also sent to a version nobody sees.

The client always gets the primary's answer: the mirrored request is a task of its own,
started beside the primary's, never awaited by it, never cached and never counted against
the team's limits or budgets. At most ``max_in_flight`` mirrored requests wait on the
shadow at once; beyond that a request is simply not mirrored (counted as ``skipped``),
so a slow or hung shadow costs the primary nothing. A stream is mirrored as one JSON
request. Each mirrored request becomes a request-log row marked ``shadow``, with the
primary's request id, the shadow's version, status, latency and (sampled like the
primary's) texts; comparing the two rows of one request id is how the shadow is judged
(:mod:`llmops.monitoring.shadow`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter

from gateway.errors import GatewayError
from gateway.exchange import RequestRecorder
from gateway.requestlog import completion_text
from gateway.routing.pools import ModelPool, ShadowPool
from gateway.upstream import UpstreamClient
from gateway.usage import Usage
from llmops.requestlog.table import RequestRecord

log = logging.getLogger("llmops.gateway.shadow")


@dataclass(frozen=True, slots=True)
class Mirrored:
    """Whose request is mirrored, as its shadow row records it."""

    team: str
    request_id: str
    key_id: str | None
    user_hash: str | None
    keep_text: bool
    """Whether the primary's texts are kept (then the shadow's are too)."""


class ShadowMirror:
    def __init__(
        self,
        upstream: UpstreamClient,
        recorder: RequestRecorder | None,
        registry: CollectorRegistry,
        rng: random.Random | None = None,
    ) -> None:
        self._upstream = upstream
        self._recorder = recorder
        self._rng = rng or random.Random()  # noqa: S311 (sampling, not secrets)
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests = Counter(
            "llmops_shadow_requests_total",
            "Requests mirrored to a shadow version, by outcome (success, error, timeout, "
            "skipped: too many already waiting on it).",
            ["model", "version", "outcome"],
            registry=registry,
        )

    def mirror(self, pool: ModelPool, body: dict[str, Any], request: Mirrored) -> None:
        """Send ``body`` to the shadow too, if the pool has one and the draw says so."""
        shadow = pool.shadow
        if shadow is None or self._rng.random() >= shadow.share:
            return
        if shadow.in_flight >= shadow.max_in_flight:
            self.requests.labels(pool.model, shadow.version, "skipped").inc()
            return
        shadow.in_flight += 1
        sent = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        task = asyncio.create_task(self._send(pool.model, shadow, sent, request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(
        self, model: str, shadow: ShadowPool, body: dict[str, Any], request: Mirrored
    ) -> None:
        started = time.perf_counter()
        url = shadow.next_url()
        status, answer, outcome = 502, None, "error"
        try:
            async with asyncio.timeout(shadow.timeout_seconds):
                response = await self._upstream.post(
                    f"{url}/chat/completions",
                    orjson.dumps(body),
                    {"content-type": "application/json"},
                )
                try:
                    data = await self._upstream.read(response)
                finally:
                    response.release()
            status = response.status
            answer = orjson.loads(data) if status < 400 else None
            outcome = "success" if status < 400 else "error"
        except TimeoutError:
            status, outcome = 504, "timeout"
        except (GatewayError, orjson.JSONDecodeError) as e:
            log.info("shadow request failed", extra={"upstream": url, "error": repr(e)})
        finally:
            shadow.in_flight -= 1
        elapsed = time.perf_counter() - started
        self.requests.labels(model, shadow.version, outcome).inc()
        if self._recorder is None:
            return
        usage = Usage.of(answer if isinstance(answer, dict) else None)
        record = RequestRecord(
            at=datetime.now(UTC) - timedelta(seconds=elapsed),
            team=request.team,
            model=model,
            model_version=shadow.version,
            upstream=url,
            endpoint="chat/completions",
            status=status,
            prompt_tokens=usage.prompt if usage else 0,
            completion_tokens=usage.completion if usage else 0,
            latency_ms=elapsed * 1000,
            ttft_ms=None,
            cache="bypass",
            key_id=request.key_id,
            user_hash=request.user_hash,
            request_id=request.request_id,
            shadow=True,
        )
        self._recorder.record_shadow(
            record, body, completion_text(answer), sampled=request.keep_text
        )

    async def drain(self) -> None:
        """Cancel the mirrored requests still waiting (nobody waits for their answers)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
