"""The request log's writer: one row per request, redacted, batched, off the request path.

:meth:`RequestLog.record` runs when a request is settled; it only copies figures
and references into a bounded queue and returns. A background task takes rows in
batches, samples and redacts their texts (in a worker thread) and inserts them.
When the queue is full or the database is slow or down, rows are dropped and
counted (``llmops_gateway_request_log_dropped_total{reason}``): no request ever
waits on the log or fails because of it. Another task deletes rows older than
the retention.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import content, db
from gateway.exchange import Exchange
from gateway.openai_schema import Endpoint
from gateway.settings import RequestLogSettings
from gateway.supervision import Supervisor
from llmops.requestlog.redaction import Redactor
from llmops.requestlog.table import RequestRecord, request_log, subject_tags

log = logging.getLogger("llmops.gateway.requestlog")
# A batch the database could not take is tried again after this pause, doubled each time.
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.1, 5.0


@dataclass(slots=True)
class _Pending:
    record: RequestRecord
    prompt: str | None
    """The prompt's text, cut to ``max_text_chars`` (not redacted yet), when sampled."""
    completion: str | None

    @property
    def size(self) -> int:
        """Characters it holds, as the queue's budget counts them."""
        return len(self.prompt or "") + len(self.completion or "")


class RequestLog:
    """Queues settled requests and writes them in batches; prunes old rows."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: RequestLogSettings,
        redactor: Redactor,
        registry: CollectorRegistry,
        *,
        rng: random.Random | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self._supervisor = supervisor or Supervisor()
        self._engine = engine
        self._settings = settings
        self._redactor = redactor
        self._rng = rng or random.Random()  # noqa: S311 (sampling, not secrets)
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(settings.queue_size)
        self._full = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: asyncio.Task[list[dict[str, Any]]] | None = None
        self._pruning: asyncio.Future[int] | None = None
        self._closed = asyncio.Event()
        self._held: list[dict[str, Any]] = []
        """The rows being written (or waiting to be written again)."""
        self._registry = registry
        self.written = Counter(
            "llmops_gateway_request_log_written_total",
            "Rows written to the request log.",
            registry=registry,
        )
        self.dropped = Counter(
            "llmops_gateway_request_log_dropped_total",
            "Request-log rows dropped: queue_full (writes fall behind), write_failed (the "
            "database refused or timed out) or bad_row (a row the database refused alone).",
            ["reason"],
            registry=registry,
        )
        self._queue_full = self.dropped.labels("queue_full")
        self._write_failed = self.dropped.labels("write_failed")
        self._bad_row = self.dropped.labels("bad_row")
        self._retried = Counter(
            "llmops_gateway_request_log_retried_total",
            "Rows the database could not take at once (unreachable), kept to write again.",
            registry=registry,
        )
        self._texts_dropped = Counter(
            "llmops_gateway_request_log_texts_dropped_total",
            "Rows queued without their texts: the queue held queue_max_chars already.",
            registry=registry,
        )
        self._queued_chars = 0

    def start(self) -> None:
        self._tasks = [self._supervisor.spawn("request-log writer", self._write_loop)]
        if self._settings.retention_days > 0 or any(self._settings.retention_days_by_team.values()):
            self._tasks.append(self._supervisor.spawn("request-log pruner", self._prune_loop))

    async def close(self) -> None:
        """Stop the tasks and write what is queued: a batch being written gets one more
        try, and each batch is bounded by the write timeout; what cannot be written then
        is dropped (and counted)."""
        self._closed.set()
        writer, others = (self._tasks[0], self._tasks[1:]) if self._tasks else (None, [])
        for task in others:
            task.cancel()
        if writer is not None:
            if not self._held:
                writer.cancel()  # idle: waiting for rows
            await asyncio.wait({writer}, timeout=2 * self._settings.write_timeout_seconds)
            writer.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._queue.empty():
            await self._write(self._take(self._settings.batch_size), retry=False)
        # A statement the driver is running is let finish (bounded): cancelled, it would
        # go on in the driver's thread after the engine and its loop are gone.
        for statement in (self._inflight, self._pruning):
            if statement is not None and not statement.done():
                await asyncio.wait({statement}, timeout=self._settings.write_timeout_seconds)
                statement.cancel()
        for collector in (self.written, self.dropped, self._retried, self._texts_dropped):
            self._registry.unregister(collector)

    # -- the request path: copy and enqueue, nothing else ---------------------------------

    def samples_text(self) -> bool:
        return self._rng.random() < self._settings.text_sample_rate

    def record(self, ex: Exchange, elapsed: float) -> None:
        sampled = ex.sample_text if ex.sample_text is not None else self.samples_text()
        usage = ex.usage
        record = RequestRecord(
            at=datetime.now(UTC) - timedelta(seconds=elapsed),
            team=ex.team,
            model=ex.model_label,
            model_version=ex.version,
            upstream=ex.replica.url if ex.replica is not None else None,
            endpoint=ex.endpoint.value,
            status=ex.status,
            prompt_tokens=usage.prompt if usage else ex.prompt_tokens,
            completion_tokens=usage.completion if usage else 0,
            latency_ms=elapsed * 1000,
            ttft_ms=(ex.first_token_at - ex.started) * 1000 if ex.first_token_at else None,
            cache=ex.cache,
            failed_attempts=tuple(ex.failed_attempts),
            key_id=ex.subject.key_id
            if ex.subject
            else (ex.principal.key_id if ex.principal else None),
            user_hash=ex.subject.user_hash if ex.subject else None,
            cost_nanos=ex.settled_cost() if ex.ticket is not None else None,
            request_id=ex.request_id or None,
        )
        self._queue_row(_Pending(record, *self._texts(ex) if sampled else (None, None)))

    def record_shadow(
        self, record: RequestRecord, body: dict[str, Any], completion: str | None, *, sampled: bool
    ) -> None:
        """A shadow version's answer to a mirrored chat request (``record.shadow``), with
        the texts when the primary's are kept."""
        limit = self._settings.max_text_chars
        prompt = prompt_text(Endpoint.CHAT, body) if sampled else None
        self._queue_row(
            _Pending(
                record,
                prompt[:limit] if prompt is not None else None,
                completion[:limit] if completion is not None and sampled else None,
            )
        )

    def _queue_row(self, pending: _Pending) -> None:
        if self._queued_chars + pending.size > self._settings.queue_max_chars:
            # Writes fall behind with large texts: keep the row's figures, not its texts.
            self._texts_dropped.inc()
            pending.prompt = pending.completion = None
        try:
            self._enqueue(pending)
        except asyncio.QueueFull:
            self._queue_full.inc()
            return
        if self._queue.qsize() >= self._settings.batch_size:
            self._full.set()

    def _enqueue(self, pending: _Pending) -> None:
        self._queue.put_nowait(pending)
        self._queued_chars += pending.size

    def _texts(self, ex: Exchange) -> tuple[str | None, str | None]:
        """The texts to keep, cut now: the queue holds no request body nor whole answer."""
        limit = self._settings.max_text_chars
        prompt = prompt_text(ex.endpoint, ex.parsed.body) if ex.parsed is not None else None
        streamed = ex.streamed
        completion = "".join(streamed) if streamed is not None else completion_text(ex.answer)
        return (
            prompt[:limit] if prompt is not None else None,
            completion[:limit] if completion is not None else None,
        )

    async def forget(self, subject: str, *, dry_run: bool = False) -> int:
        """Drop the queued rows of ``subject`` (a tag of
        :func:`~llmops.requestlog.table.subject_tags`), and those waiting to be written
        again; how many."""
        queued = self._take(self._queue.qsize())
        kept = [p for p in queued if subject not in p.record.subjects]
        for pending in queued if dry_run else kept:
            self._enqueue(pending)
        held = [
            r
            for r in self._held
            if subject not in subject_tags(r["team"], r["key_id"], r["user_hash"])
        ]
        forgotten = len(queued) - len(kept) + len(self._held) - len(held)
        if not dry_run:
            self._held[:] = held  # in place: the retrying writer reads this list
        return forgotten

    # -- off the request path --------------------------------------------------------------

    def _take(self, n: int) -> list[_Pending]:
        batch: list[_Pending] = []
        while len(batch) < n and not self._queue.empty():
            pending = self._queue.get_nowait()
            self._queued_chars -= pending.size
            batch.append(pending)
        return batch

    async def _write_loop(self) -> None:
        while True:
            first = await self._queue.get()
            if self._queue.qsize() + 1 < self._settings.batch_size:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._settings.flush_seconds)
            await self._write([first, *self._take(self._settings.batch_size - 1)])

    async def _write(self, batch: list[_Pending], *, retry: bool = True) -> None:
        """Insert one batch. A batch the database could not take (unreachable, or slower
        than the write timeout) is kept and tried again after a backoff (0.1 s doubling
        to 5 s) until it is written: meanwhile new rows wait in the queue, and past its
        bounds they are dropped (and counted). Without ``retry`` (at shutdown) it is
        dropped (and counted)."""
        if not batch:
            return
        self._held = await asyncio.to_thread(self._rows, batch)
        pause = RETRY_FIRST_SECONDS
        while self._held:
            self._held = await self._attempt(self._held)
            if self._held and (not retry or self._closed.is_set()):
                self._write_failed.inc(len(self._held))
                break
            if self._held:
                with contextlib.suppress(TimeoutError):  # closing cuts the pause short
                    await asyncio.wait_for(self._closed.wait(), pause)
                pause = min(2 * pause, RETRY_MAX_SECONDS)
        self._held = []

    async def _attempt(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One insert; the rows still to write. One insert runs at a time, in a task of
        its own: one slower than the write timeout is waited for (rows queue meanwhile),
        and stopping the writer leaves it to end (:meth:`close` waits for it)."""
        insert = asyncio.create_task(self._insert(rows), name="request-log insert")
        self._inflight = insert
        await asyncio.wait({insert}, timeout=self._settings.write_timeout_seconds)
        if not insert.done():
            log.warning(
                "request log: a write is slower than %.0f s", self._settings.write_timeout_seconds
            )
            await asyncio.wait({insert})
        kept = insert.result()
        if kept:
            self._retried.inc(len(kept))
        return kept

    async def _insert(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert the rows; those that could not be written for now (the database
        unreachable). A batch the database refuses for its content is split until the
        rows it refuses alone are found: they are dropped (and counted), the others
        kept. No error text is logged: a driver's message can quote the rows' texts."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(request_log.insert(), rows)
        except (OperationalError, InterfaceError, OSError, TimeoutError) as e:
            log.warning("request log: %d rows kept, to write again: %s", len(rows), _error_kind(e))
            return rows
        except DBAPIError as e:
            if len(rows) == 1:
                self._bad_row.inc()
                log.warning("request log: 1 row refused: %s", _error_kind(e))
                return []
            middle = len(rows) // 2
            return [*await self._insert(rows[:middle]), *await self._insert(rows[middle:])]
        except SQLAlchemyError as e:
            self._write_failed.inc(len(rows))
            log.warning("request log: %d rows dropped: %s", len(rows), _error_kind(e))
            return []
        self.written.inc(len(rows))
        return []

    def _rows(self, batch: list[_Pending]) -> list[dict[str, Any]]:
        """Texts extracted, cut and redacted (in a worker thread)."""
        rows = []
        for p in batch:
            spans = 0
            texts: list[str | None] = []
            for text in (p.prompt, p.completion):
                if text is None:
                    texts.append(None)
                    continue
                redacted = self._redactor.redact(text)
                spans += redacted.spans
                texts.append(redacted.text)
            record = replace(
                p.record, prompt_text=texts[0], completion_text=texts[1], redactions=spans
            )
            rows.append(_storable(record.row()))
        return rows

    async def _prune_loop(self) -> None:
        while True:
            try:
                self._pruning = asyncio.ensure_future(self.prune(datetime.now(UTC)))
                deleted = await asyncio.shield(self._pruning)  # see close()
                if deleted:
                    log.info("request log: %d rows past retention deleted", deleted)
            except (SQLAlchemyError, OSError) as e:
                log.warning("request log: pruning failed: %s", _error_kind(e))
            await asyncio.sleep(self._settings.prune_interval_seconds)

    async def prune(self, now: datetime) -> int:
        """Delete rows older than their team's retention; how many were deleted."""
        settings = self._settings
        teams = settings.retention_days_by_team
        deletes = [
            sa.delete(request_log).where(
                request_log.c.team == team, request_log.c.at < now - timedelta(days=days)
            )
            for team, days in teams.items()
            if days > 0
        ]
        if settings.retention_days > 0:
            cutoff = now - timedelta(days=settings.retention_days)
            deletes.append(
                sa.delete(request_log).where(
                    request_log.c.at < cutoff, request_log.c.team.not_in(list(teams))
                )
            )
        deleted = 0
        async with self._engine.begin() as conn:
            await db.without_statement_timeout(conn)
            for delete in deletes:
                deleted += int((await conn.execute(delete)).rowcount or 0)
        return deleted


_LIMITS: dict[str, int] = {
    c.name: c.type.length
    for c in request_log.columns
    if isinstance(c.type, sa.String) and c.type.length
}


def _storable(row: dict[str, Any]) -> dict[str, Any]:
    """Every text as any database stores it: NUL characters (which PostgreSQL refuses) and
    lone surrogates (which UTF-8 cannot encode) replaced, and cut to its column's length."""
    for name, value in row.items():
        if isinstance(value, str):
            text = value.replace("\x00", "\ufffd")
            text = text.encode("utf-8", "replace").decode("utf-8")
            limit = _LIMITS.get(name)
            row[name] = text[:limit] if limit else text
    return row


def _error_kind(error: BaseException) -> str:
    """What went wrong, without the statement or its parameters: the error's class and,
    for a driver error, the driver's class and SQLSTATE."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return f"{type(error.orig).__name__}{f' ({code})' if code else ''}"
    return type(error).__name__


def prompt_text(endpoint: Endpoint, body: dict[str, Any]) -> str | None:
    """What the user asked: the last user message of a chat, the prompt or the input."""
    if endpoint is Endpoint.CHAT:
        messages = body.get("messages")
        for message in reversed(messages if isinstance(messages, list) else []):
            if isinstance(message, dict) and message.get("role") == "user":
                return content.text_of(message.get("content"))
        return None
    value = body.get("prompt" if endpoint is Endpoint.COMPLETIONS else "input")
    if isinstance(value, list):
        value = " ".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else None


def completion_text(answer: Any) -> str | None:
    """The first choice's text of a JSON answer."""
    if not isinstance(answer, dict):
        return None
    choices = answer.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    choice = choices[0]
    message = choice.get("message")
    if isinstance(message, dict):
        return content.text_of(message.get("content"))
    text = choice.get("text")
    return text if isinstance(text, str) else None
