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

from gateway import db
from gateway.exchange import Exchange
from gateway.openai_schema import Endpoint
from gateway.settings import RequestLogSettings
from gateway.supervision import Supervisor
from llmops.requestlog.redaction import Redactor
from llmops.requestlog.table import RequestRecord, request_log

log = logging.getLogger("llmops.gateway.requestlog")


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
        self._inflight: asyncio.Task[None] | None = None
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
        """Stop the tasks, then write what is queued (each batch bounded by the write
        timeout)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._queue.empty():
            await self._write(self._take(self._settings.batch_size))
        if self._inflight is not None and not self._inflight.done():
            await asyncio.wait({self._inflight}, timeout=self._settings.write_timeout_seconds)
            self._inflight.cancel()
        for collector in (self.written, self.dropped, self._texts_dropped):
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
        )
        pending = _Pending(record, *self._texts(ex) if sampled else (None, None))
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
        :func:`~llmops.requestlog.table.subject_tags`); how many."""
        queued = self._take(self._queue.qsize())
        kept = [p for p in queued if subject not in p.record.subjects]
        for pending in queued if dry_run else kept:
            self._enqueue(pending)
        return len(queued) - len(kept)

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

    async def _write(self, batch: list[_Pending]) -> None:
        """Insert one batch, waiting at most the write timeout. One insert is in flight at
        a time: while a slow one is still running, new batches are dropped (and counted)."""
        if not batch:
            return
        rows = await asyncio.to_thread(self._rows, batch)
        if self._inflight is not None and not self._inflight.done():
            self._write_failed.inc(len(rows))
            log.warning("request log: %d rows dropped: the database is slow", len(rows))
            return
        self._inflight = asyncio.create_task(self._insert(rows), name="request-log insert")
        # Not cancelled on timeout: a blocked driver call cannot be interrupted anyway.
        await asyncio.wait({self._inflight}, timeout=self._settings.write_timeout_seconds)

    async def _insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert the rows; a batch the database refuses for its content is split until
        the rows it refuses alone are found: they are dropped (and counted), the others
        kept. No error text is logged: a driver's message can quote the rows' texts."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(request_log.insert(), rows)
        except (OperationalError, InterfaceError, OSError) as e:
            self._write_failed.inc(len(rows))
            log.warning("request log: %d rows dropped: %s", len(rows), _error_kind(e))
            return
        except DBAPIError as e:
            if len(rows) == 1:
                self._bad_row.inc()
                log.warning("request log: 1 row refused: %s", _error_kind(e))
                return
            middle = len(rows) // 2
            await self._insert(rows[:middle])
            await self._insert(rows[middle:])
            return
        except SQLAlchemyError as e:
            self._write_failed.inc(len(rows))
            log.warning("request log: %d rows dropped: %s", len(rows), _error_kind(e))
            return
        self.written.inc(len(rows))

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
                deleted = await self.prune(datetime.now(UTC))
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


def _content(value: Any) -> str | None:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p.get("text") for p in value if isinstance(p, dict)]
        return " ".join(p for p in parts if isinstance(p, str)) or None
    return None


def prompt_text(endpoint: Endpoint, body: dict[str, Any]) -> str | None:
    """What the user asked: the last user message of a chat, the prompt or the input."""
    if endpoint is Endpoint.CHAT:
        messages = body.get("messages")
        for message in reversed(messages if isinstance(messages, list) else []):
            if isinstance(message, dict) and message.get("role") == "user":
                return _content(message.get("content"))
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
        return _content(message.get("content"))
    text = choice.get("text")
    return text if isinstance(text, str) else None
