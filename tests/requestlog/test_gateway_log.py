"""The gateway's request log: one redacted row per request, written off the request path.

A real gateway in uvicorn in front of the echo replica (which answers with the
prompt, so completions carry the same PII as prompts); rows are read back with
monitoring's reader, as the drift monitor reads them.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openai
import pytest
from prometheus_client import CollectorRegistry

from gateway import db
from gateway.keys import material
from gateway.requestlog import RequestLog
from gateway.settings import RequestLogSettings
from gateway.subjects import SubjectHasher
from llmops.monitoring.reader import RequestLogReader, Window, engine_for
from llmops.monitoring.routes import RoutesFile, VersionShare
from llmops.requestlog.redaction import PiiRedactor
from llmops.requestlog.table import RequestRecord, request_log
from llmops.serving.echo import EchoBehaviour, EchoServer
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import call, chat, new_key
from tests.support.netfault import Link, relayed

PII = "I am jane@example.com, card 4111 1111 1111 1111, call +1 415-555-0132"
REDACTED = "I am <EMAIL_ADDRESS>, card <CREDIT_CARD>, call <PHONE_NUMBER>"
EVER = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def rows(database_url: str, model: str = "echo") -> list[RequestRecord]:
    async def read() -> list[RequestRecord]:
        reader = RequestLogReader(engine_for(database_url))
        try:
            return await reader.window(model, EVER)
        finally:
            await reader.close()

    return asyncio.run(read())


def wait_rows(
    database_url: str, n: int, timeout: float = 10.0, model: str = "echo"
) -> list[RequestRecord]:
    deadline = time.monotonic() + timeout
    while len(found := rows(database_url, model)) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def counter(gateway_url: str, name: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in call("GET", f"{gateway_url}/metrics").body.decode().splitlines():
        if line.startswith(name) and not line.startswith("#"):
            labels, _, value = line.rpartition(" ")
            out[labels] = float(value)
    return out


def failed_writes(gateway_url: str) -> float:
    dropped = counter(gateway_url, "llmops_gateway_request_log_dropped_total")
    return dropped['llmops_gateway_request_log_dropped_total{reason="write_failed"}']


def ask(content: str, **extra: Any) -> dict[str, Any]:
    return {"model": "echo", "messages": [{"role": "user", "content": content}], **extra}


@pytest.fixture
def logged(
    echo: EchoServer, sqlite_url: str, request: pytest.FixtureRequest
) -> Iterator[RunningGateway]:
    log_settings = {"flush_seconds": 0.05, **getattr(request, "param", {})}
    settings = settings_for(sqlite_url, {"echo": [echo.url]}, request_log=log_settings)
    with gateway_in_thread(settings) as running:
        yield running


def test_each_request_is_one_row_with_its_figures_and_redacted_texts(
    logged: RunningGateway, sqlite_url: str
) -> None:
    key = new_key(logged.url, "team-a")
    assert chat(logged.url, key, ask(PII)).status == 200
    client = openai.OpenAI(base_url=logged.v1, api_key=key)
    chunks = list(client.chat.completions.create(**ask("stream to a@b.io"), stream=True))
    assert chunks
    assert chat(logged.url, key, {"model": "echo", "messages": "not a list"}).status == 400

    found = wait_rows(sqlite_url, 2)
    assert len(found) == 2
    plain, streamed = found
    assert (plain.team, plain.model, plain.status, plain.endpoint) == (
        "team-a",
        "echo",
        200,
        "chat/completions",
    )
    assert plain.prompt_text == REDACTED and plain.redactions >= 3
    assert plain.completion_text is not None and "jane@" not in plain.completion_text
    assert "<EMAIL_ADDRESS>" in plain.completion_text
    assert plain.prompt_tokens > 0 and plain.completion_tokens > 0 and plain.latency_ms > 0
    assert plain.upstream is not None and plain.cache == "bypass"
    assert streamed.prompt_text == "stream to <EMAIL_ADDRESS>"
    assert streamed.ttft_ms is not None and streamed.ttft_ms <= streamed.latency_ms
    assert streamed.completion_text and "a@b.io" not in streamed.completion_text
    # A body that names no usable model is logged under "unknown".
    unknown = wait_rows(sqlite_url, 1, model="unknown")  # it may come in a later batch
    assert [(r.status, r.endpoint) for r in unknown] == [(400, "chat/completions")]
    written = counter(logged.url, "llmops_gateway_request_log_written_total")
    assert sum(written.values()) == 3


def test_a_failed_try_retried_on_another_version_is_kept_beside_the_answer(
    echo: EchoServer, sqlite_url: str, tmp_path: Path
) -> None:
    """A canary that fails every request is hidden by the gateway's retries: the rows name
    the version that answered, and keep the versions that failed first."""
    failing = EchoServer(model="echo").start_in_thread()
    failing.behaviour = EchoBehaviour(status=500)
    routes = tmp_path / "routes.yaml"
    RoutesFile(routes).set_versions(
        "echo", [VersionShare("1", 0.5, (echo.url,)), VersionShare("2", 0.5, (failing.url,))]
    )
    settings = settings_for(
        sqlite_url,
        {"echo": [echo.url]},
        routes_file=str(routes),
        request_log={"flush_seconds": 0.05},
        routing={"retries": {"budget_floor_per_second": 100}, "health": {"interval_seconds": 0}},
    )
    try:
        with gateway_in_thread(settings) as gateway:
            key = new_key(gateway.url, "team-a")
            statuses = [chat(gateway.url, key, ask(f"q{i}")).status for i in range(20)]
            found = wait_rows(sqlite_url, 20)

            async def failures() -> Counter[tuple[str, str]]:
                reader = RequestLogReader(engine_for(sqlite_url))
                try:
                    return await reader.failed_attempts(EVER)
                finally:
                    await reader.close()

            failed = asyncio.run(failures())
    finally:
        failing.stop_thread()
    assert statuses == [200] * 20
    assert {r.model_version for r in found} == {"1"}
    retried = [r for r in found if r.failed_attempts]
    assert retried and all(r.failed_attempts == (("echo", "2"),) for r in retried)
    # Every request the failing version received is in the log, none on the champion.
    assert failed == {("echo", "2"): len(retried)}
    assert len(retried) == len(failing.record.requests)


@pytest.mark.parametrize("logged", [{"text_sample_rate": 0.0}], indirect=True)
def test_unsampled_rows_keep_figures_but_no_text(logged: RunningGateway, sqlite_url: str) -> None:
    key = new_key(logged.url, "team-a")
    for _ in range(3):
        assert chat(logged.url, key, ask(PII)).status == 200
    found = wait_rows(sqlite_url, 3)
    assert len(found) == 3
    assert all(r.prompt_text is None and r.completion_text is None for r in found)
    assert all(r.prompt_tokens > 0 for r in found)


@pytest.mark.parametrize("logged", [{"write_timeout_seconds": 0.3}], indirect=True)
def test_a_locked_database_delays_rows_but_never_a_request(
    logged: RunningGateway, sqlite_url: str
) -> None:
    key = new_key(logged.url, "team-a")
    assert chat(logged.url, key, ask("warm up")).status == 200
    wait_rows(sqlite_url, 1)
    # Another writer holds the database: the log's insert waits on it; rows queue.
    blocker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        statuses = [chat(logged.url, key, ask(f"question {i}")).status for i in range(20)]
        took = time.monotonic() - started
        assert len(rows(sqlite_url)) == 1  # nothing written while the lock is held
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert statuses == [200] * 20
    assert took < 0.3 * 20  # not one wait on the lock per request
    # The database free again, every row is written: none was dropped.
    written = wait_rows(sqlite_url, 21)
    assert {f"question {i}" for i in range(20)} <= {r.prompt_text for r in written}
    assert failed_writes(logged.url) == 0


def test_rows_are_kept_through_a_database_outage_and_written_after(
    echo: EchoServer, postgres_url: str
) -> None:
    db.migrate(postgres_url)
    with relayed(postgres_url) as (through, link):
        settings = settings_for(
            through,
            {"outage": [echo.url]},
            migrate_on_start=False,
            database_timeout_seconds=1,
            request_log={"flush_seconds": 0.05},
        )
        with gateway_in_thread(settings) as gateway:
            key = new_key(gateway.url, "team-a")
            assert chat(gateway.url, key, ask("before", model="outage")).status == 200
            assert len(wait_rows(postgres_url, 1, model="outage")) == 1
            link.set(Link.REFUSE)  # the database gone: known keys still served (stale)
            statuses = [
                chat(gateway.url, key, ask(f"during {i}", model="outage")).status for i in range(10)
            ]
            assert statuses == [200] * 10
            deadline = time.monotonic() + 30
            while not counter(gateway.url, "llmops_gateway_request_log_retried_total").get(
                "llmops_gateway_request_log_retried_total", 0
            ):
                assert time.monotonic() < deadline, "the writer never tried"
                time.sleep(0.05)
            link.set(Link.UP)
            written = wait_rows(postgres_url, 11, timeout=30, model="outage")
            assert {f"during {i}" for i in range(10)} <= {r.prompt_text for r in written}
            assert failed_writes(gateway.url) == 0


@pytest.mark.parametrize(
    "logged", [{"queue_size": 2, "batch_size": 100, "flush_seconds": 3.0}], indirect=True
)
def test_a_full_queue_drops_and_counts_rows(logged: RunningGateway, sqlite_url: str) -> None:
    key = new_key(logged.url, "team-a")
    statuses = [chat(logged.url, key, ask(f"q{i}")).status for i in range(8)]
    assert statuses == [200] * 8
    dropped = counter(logged.url, "llmops_gateway_request_log_dropped_total")
    assert dropped['llmops_gateway_request_log_dropped_total{reason="queue_full"}'] >= 5
    assert len(wait_rows(sqlite_url, 3)) == 3  # the queued ones are written at the flush


def test_rows_past_the_retention_are_deleted(postgres_url: str) -> None:
    """7 days by default; 1 day for one team; forever for another."""
    db.migrate(postgres_url)
    now = datetime.now(UTC)

    def record(age: timedelta, team: str = "t") -> dict[str, Any]:
        return RequestRecord(
            at=now - age, team=team, model="retention", model_version=None, upstream=None,
            endpoint="chat/completions", status=200, prompt_tokens=1, completion_tokens=1,
            latency_ms=1.0, ttft_ms=None, cache="bypass",
        ).row()  # fmt: skip

    async def scenario() -> tuple[int, list[RequestRecord]]:
        engine = db.create_engine(postgres_url)
        settings = RequestLogSettings(
            retention_days=7, retention_days_by_team={"short": 1, "forever": 0}
        )
        log = RequestLog(engine, settings, PiiRedactor(), CollectorRegistry())
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    request_log.insert(),
                    [
                        record(timedelta(days=8)),
                        record(timedelta(days=6)),
                        record(timedelta(0)),
                        record(timedelta(days=2), "short"),
                        record(timedelta(hours=1), "short"),
                        record(timedelta(days=100), "forever"),
                    ],
                )
            deleted = await log.prune(now)
            reader = RequestLogReader(engine_for(postgres_url))
            kept = await reader.window("retention", EVER)
            await reader.close()
            return deleted, kept
        finally:
            await log.close()
            await engine.dispose()

    deleted, kept = asyncio.run(scenario())
    assert deleted == 2
    assert sorted((r.team, round((now - r.at).total_seconds() / 86400)) for r in kept) == [
        ("forever", 100),
        ("short", 0),
        ("t", 0),
        ("t", 6),
    ]


def test_texts_postgresql_refuses_never_drop_other_rows(
    echo: EchoServer, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A NUL character, a lone surrogate and a long message are stored as PostgreSQL can
    store them, in one batch with ordinary rows; no text reaches the application log."""
    db.migrate(postgres_url)
    settings = settings_for(
        postgres_url, {"echo": [echo.url]}, request_log={"flush_seconds": 0.5, "batch_size": 50}
    )
    texts = ["plain question one", "nul \x00 inside", "a lone \udc80 surrogate", "x" * 600_000]
    with gateway_in_thread(settings) as gateway:
        key = new_key(gateway.url, "team-a")
        for text in [*texts, "plain question two"]:
            body = ask(text)
            raw = json.dumps(body)  # keeps the lone surrogate as \\udc80
            reply = call(
                "POST",
                f"{gateway.v1}/chat/completions",
                raw=raw.encode(),
                headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
            )
            # A lone surrogate is no valid JSON text: refused with an error body, not stored.
            assert reply.status == (400 if "\udc80" in text else 200), reply.body
        found = wait_rows(postgres_url, 4)
    assert len(found) == 4
    prompts = [r.prompt_text or "" for r in found]
    assert any("nul \ufffd inside" in p for p in prompts)
    assert any(p.startswith("x" * 100) for p in prompts)
    assert "nul" not in caplog.text and "plain question" not in caplog.text


def test_a_row_the_database_refuses_is_dropped_alone(postgres_url: str) -> None:
    db.migrate(postgres_url)

    def row(tokens: int) -> dict[str, Any]:
        return RequestRecord(
            at=datetime.now(UTC), team="t", model="bisect", model_version=None, upstream=None,
            endpoint="chat/completions", status=200, prompt_tokens=tokens, completion_tokens=1,
            latency_ms=1.0, ttft_ms=None, cache="bypass",
        ).row()  # fmt: skip

    async def scenario() -> tuple[list[RequestRecord], float, float]:
        engine = db.create_engine(postgres_url)
        registry = CollectorRegistry()
        log = RequestLog(engine, RequestLogSettings(), PiiRedactor(), registry)
        try:
            # 2**40 tokens overflow the integer column: that row alone is refused.
            await log._insert([row(1), row(2), row(2**40), row(4), row(5)])
            reader = RequestLogReader(engine_for(postgres_url))
            kept = await reader.window("bisect", EVER)
            await reader.close()
            bad = registry.get_sample_value(
                "llmops_gateway_request_log_dropped_total", {"reason": "bad_row"}
            )
            written = registry.get_sample_value("llmops_gateway_request_log_written_total")
            return kept, bad or 0.0, written or 0.0
        finally:
            await log.close()
            await engine.dispose()

    kept, bad, written = asyncio.run(scenario())
    assert sorted(r.prompt_tokens for r in kept) == [1, 2, 4, 5]
    assert (bad, written) == (1, 4)


def test_each_row_names_its_key_and_the_end_user_as_a_keyed_hash(
    echo: EchoServer, sqlite_url: str
) -> None:
    settings = settings_for(sqlite_url, {"echo": [echo.url]}, request_log={"flush_seconds": 0.05})
    hasher = SubjectHasher(settings.key_hash_secret)
    with gateway_in_thread(settings) as gateway:
        key = new_key(gateway.url, "team-a")
        for body, headers in [
            (ask("first", user="alice"), {}),
            (ask("second", user="alice"), {"x-llmops-user": "bob"}),  # the header wins
            (ask("third"), {}),
        ]:
            reply = call(
                "POST",
                f"{gateway.v1}/chat/completions",
                body=body,
                headers={"authorization": f"Bearer {key}", **headers},
            )
            assert reply.status == 200, reply.body
        found = {r.prompt_text: r for r in wait_rows(sqlite_url, 3)}
    assert {p: r.user_hash for p, r in found.items()} == {
        "first": hasher.user_hash("alice"),
        "second": hasher.user_hash("bob"),
        "third": None,
    }
    assert "alice" not in str(found) and "bob" not in str(found)
    key_ids = {r.key_id for r in found.values()}
    assert len(key_ids) == 1 and None not in key_ids


def test_the_queue_keeps_figures_but_not_texts_past_its_character_budget(
    echo: EchoServer, sqlite_url: str
) -> None:
    settings = settings_for(
        sqlite_url,
        {"echo": [echo.url]},
        request_log={"flush_seconds": 0.05, "queue_max_chars": 0},
    )
    with gateway_in_thread(settings) as gateway:
        key = new_key(gateway.url, "team-a")
        assert chat(gateway.url, key, ask("a question with some text")).status == 200
        (row,) = wait_rows(sqlite_url, 1)
        assert row.status == 200 and row.prompt_tokens > 0
        assert row.prompt_text is None and row.completion_text is None
        dropped = counter(gateway.url, "llmops_gateway_request_log_texts_dropped_total")
        assert dropped == {"llmops_gateway_request_log_texts_dropped_total": 1.0}


def test_requests_without_a_valid_key_leave_no_row(logged: RunningGateway, sqlite_url: str) -> None:
    key = new_key(logged.url, "team-a")
    unknown = material.generate()  # well formed, looked up, unknown
    for token in (unknown, "not-a-key"):
        assert chat(logged.url, token, ask("who am I")).status == 401
    assert chat(logged.url, key, ask("a team's question")).status == 200
    wait_rows(sqlite_url, 1)  # the 401s came first: had they been queued, they are written
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        teams = [team for (team,) in conn.execute("SELECT team FROM request_log")]
    assert teams == ["team-a"]
    dropped = counter(logged.url, "llmops_gateway_request_log_dropped_total")
    assert not any(dropped.values())
