"""Every path that holds data or waits has a bound, and says so when it is hit."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Sequence

import numpy as np
import pytest

from gateway import http1, sse
from gateway.cache.embedding import BatchingEmbedder, CacheUnavailable
from gateway.errors import RateLimited, UpstreamError
from gateway.largebodies import LargeBodies
from gateway.settings import UpstreamSettings
from gateway.upstream import UpstreamClient
from llmops.serving.echo import EchoServer
from tests.support.gateways import gateway_in_thread, settings_for
from tests.support.http import call, chat, new_key


def test_events_are_split_however_they_are_cut_and_bounded() -> None:
    stream = b"data: one\n\ndata: two\r\n\r\ndata: three\n\n"
    for size in (1, 2, 3, 7, len(stream)):
        splitter = sse.EventSplitter()
        events = [
            e for i in range(0, len(stream), size) for e in splitter.feed(stream[i : i + size])
        ]
        assert events == [b"data: one\n\n", b"data: two\n\n", b"data: three\n\n"], size
    splitter = sse.EventSplitter(max_event_bytes=1024)
    assert list(splitter.feed(b"data: " + b"x" * 1000)) == []  # under the bound: waits
    with pytest.raises(sse.EventTooLarge):
        list(splitter.feed(b"x" * 100))


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, asyncio.Event, asyncio.Event]]:
    """A replica answering 2 MiB bodies, each request held until ``release`` is set;
    ``received`` is set when a request has come in."""
    release, received = asyncio.Event(), asyncio.Event()
    release.set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await answer(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (int(line.split(b":")[1]) for line in head.split(b"\r\n")
                 if line.lower().startswith(b"content-length")),
                0,
            )  # fmt: skip
            await reader.readexactly(length)
            received.set()
            await release.wait()
            body = b"x" * (2 * 1024 * 1024)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    yield port, release, received
    srv.close()
    await srv.wait_closed()


async def test_a_whole_answer_past_the_limit_is_refused(
    server: tuple[int, asyncio.Event, asyncio.Event],
) -> None:
    port, _, _ = server
    client = UpstreamClient(UpstreamSettings(max_response_bytes=1024 * 1024))
    await client.start()
    try:
        response = await client.post(f"http://127.0.0.1:{port}/v1/chat", b"{}", {})
        with pytest.raises(UpstreamError) as refused:
            await client.read(response)
        assert refused.value.code == "upstream_response_too_large"
        response.release()
    finally:
        await client.close()


async def test_waiting_for_a_free_connection_is_bounded(
    server: tuple[int, asyncio.Event, asyncio.Event],
) -> None:
    port, release, received = server
    release.clear()  # the first request holds the only connection
    pool = http1.ConnectionPool(
        max_connections=1, keepalive_seconds=10, connect_timeout=0.3, read_timeout=10
    )
    url = f"http://127.0.0.1:{port}/v1/chat"
    first = asyncio.ensure_future(pool.post(url, b"{}", {}))
    await asyncio.wait_for(received.wait(), 10)
    with pytest.raises(http1.ConnectFailed, match="no connection free"):
        await pool.post(url, b"{}", {})
    release.set()
    response = await first
    await response.read()
    response.release()
    await pool.close()


async def test_the_embedding_queue_is_bounded() -> None:
    gate, started = threading.Event(), threading.Event()

    def encode(texts: Sequence[str]) -> np.ndarray:
        started.set()
        gate.wait(10)
        return np.zeros((len(texts), 4), dtype=np.float32)

    embedder = BatchingEmbedder(encode, dimensions=4, max_batch=1, max_pending=2)
    first = asyncio.ensure_future(embedder.embed("a"))
    assert await asyncio.to_thread(started.wait, 10)  # the worker holds "a"
    waiting = [asyncio.ensure_future(embedder.embed(t)) for t in ("b", "c")]
    await asyncio.sleep(0)  # let both be queued
    with pytest.raises(CacheUnavailable, match="already wait"):
        await embedder.embed("d")
    gate.set()
    await asyncio.gather(first, *waiting)
    await embedder.close()


def test_a_large_body_is_parsed_and_counted_off_the_event_loop(
    echo: EchoServer, sqlite_url: str
) -> None:
    settings = settings_for(sqlite_url, {"echo": [echo.url]})
    words = " ".join(f"word{i}" for i in range(60_000))  # about 600 kB: the workers' side
    with gateway_in_thread(settings) as gateway:
        key = new_key(gateway.url, "team-a")
        large = chat(
            gateway.url, key, {"model": "echo", "messages": [{"role": "user", "content": words}]}
        )
        assert large.status == 200, large.body
        small = chat(
            gateway.url, key, {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}
        )
        assert small.status == 200
        assert large.json()["usage"]["prompt_tokens"] > small.json()["usage"]["prompt_tokens"]
        bad = call(
            "POST",
            f"{gateway.url}/v1/chat/completions",
            raw=b'{"model": "echo", "messages": [' + b" " * 100_000 + b"",
            headers={"authorization": f"Bearer {key}"},
        )
        assert bad.status == 400 and bad.json()["error"]["type"] == "invalid_request_error"


def burn(seconds: float) -> str:
    """Work that takes ``seconds`` of this thread's CPU."""
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass
    return "done"


async def test_a_keys_large_bodies_take_at_most_their_cpu_share() -> None:
    now = [100.0]
    large = LargeBodies(share=0.1, max_wait_seconds=1.0, clock=lambda: now[0])
    try:
        assert await large.run("key-a", burn, 0.02) == "done"
        # 20 ms of CPU at a tenth of a CPU: the key owes 0.2 s before its next body.
        large.check("key-a")  # within the wait allowed
        assert await large.run("key-b", burn, 0.02) == "done"  # other keys are not held
        assert await large.run("key-a", burn, 0.1) == "done"  # waited 0.2 s, owes 1 s more
        with pytest.raises(RateLimited) as refused:
            large.check("key-a")
        assert refused.value.code == "large_body_share_exceeded"
        assert int(refused.value.headers["retry-after"]) >= 1
        now[0] += 5.0  # repaid
        large.check("key-a")
    finally:
        large.close()
