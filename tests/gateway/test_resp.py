"""The pipelined Redis connection under the limits: order, failures and recovery, on real Redis."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from gateway.errors import ServiceUnavailable
from gateway.ratelimit.base import Limit, LimitKind
from gateway.ratelimit.redis import RedisRateLimiter
from gateway.resp import RespConnection, RespError, encode
from tests.support.services import free_port, wait_for_port


class RedisProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *extra: str) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--enable-debug-command", "local", *extra]  # DEBUG SLEEP plays a stalled Redis
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def redis() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    yield server
    server.stop()


def test_encoding() -> None:
    assert (
        encode(("SET", "k", 12, b"\x00v"))
        == b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n$2\r\n\x00v\r\n"
    )


async def test_concurrent_callers_get_their_own_replies(redis: RedisProcess) -> None:
    conn = RespConnection(redis.url)
    replies = await asyncio.gather(*(conn.call("ECHO", f"reply-{i}") for i in range(500)))
    assert replies == [f"reply-{i}".encode() for i in range(500)]
    with pytest.raises(RespError, match="unknown command"):
        await conn.call("NOT-A-COMMAND")
    assert await conn.call("PING") == b"PONG"  # an error reply leaves the connection usable
    await conn.close()


async def test_a_cancelled_caller_does_not_shift_the_replies(redis: RedisProcess) -> None:
    conn = RespConnection(redis.url)
    slow = asyncio.ensure_future(conn.call("DEBUG", "SLEEP", "0.2"))
    await asyncio.sleep(0.05)
    slow.cancel()
    assert await conn.call("ECHO", "after") == b"after"  # not the cancelled call's "OK"
    assert slow.cancelled()
    await conn.close()


async def test_a_redis_that_stops_answering_times_out_and_recovers(redis: RedisProcess) -> None:
    conn = RespConnection(redis.url, timeout=0.2)
    with pytest.raises(RespError, match="in time"):
        await conn.call("DEBUG", "SLEEP", "0.5")
    await asyncio.sleep(0.4)
    assert await conn.call("ECHO", "fresh") == b"fresh"
    await conn.close()


async def test_limits_survive_a_redis_restart(redis: RedisProcess) -> None:
    limiter = RedisRateLimiter.from_url(redis.url)
    rpm = Limit(name="key_rpm", key="t:k", kind=LimitKind.REQUESTS, limit=5, window_seconds=60)
    assert (await limiter.admit([rpm], tokens=1, reservation="a")).admitted
    redis.stop()
    with pytest.raises(ServiceUnavailable):
        await limiter.admit([rpm], tokens=1, reservation="b")
    redis.start()  # an empty Redis: the script must be sent again (NOSCRIPT)
    admission = await limiter.admit([rpm], tokens=1, reservation="c")
    assert admission.admitted
    assert admission.states[0].remaining == 4
    await limiter.close()


async def test_password_and_database_from_the_url() -> None:
    server = RedisProcess()
    server.start("--requirepass", "s3cret")
    try:
        conn = RespConnection(f"redis://:s3cret@127.0.0.1:{server.port}/3")
        await conn.call("SET", "k", "v")
        assert await conn.call("GET", "k") == b"v"
        plain = RespConnection(f"redis://:s3cret@127.0.0.1:{server.port}/0")
        assert await plain.call("GET", "k") is None
        anonymous = RespConnection(f"redis://127.0.0.1:{server.port}/0")
        with pytest.raises(RespError, match="NOAUTH"):
            await anonymous.call("GET", "k")
        await anonymous.close()
        await conn.close()
        await plain.close()
    finally:
        server.stop()


async def test_a_failed_set_up_never_leaves_a_half_made_connection(redis: RedisProcess) -> None:
    # SELECT of a database Redis does not have fails: the connection must not stay on db 0.
    conn = RespConnection(f"redis://127.0.0.1:{redis.port}/99", timeout=0.5)
    for _ in range(3):
        with pytest.raises(RespError, match="DB index"):
            await conn.call("SET", "stray", "v")
        await asyncio.sleep(0.6)  # past the fail-fast pause: each call tries afresh
    plain = RespConnection(redis.url)
    assert await plain.call("EXISTS", "stray") == 0
    await conn.close()
    await plain.close()


async def test_callers_share_one_connection_attempt_and_fail_fast_after_it() -> None:
    # A server that accepts and never answers: the AUTH of the set-up times out.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = RespConnection(f"redis://:pw@127.0.0.1:{port}/0", timeout=0.3)
    loop = asyncio.get_running_loop()
    start = loop.time()
    results = await asyncio.gather(*(conn.call("PING") for _ in range(32)), return_exceptions=True)
    assert all(isinstance(r, RespError) for r in results)
    assert loop.time() - start < 1.0  # one timeout for all, not 32 in a row
    start = loop.time()
    with pytest.raises(RespError):
        await conn.call("PING")
    assert loop.time() - start < 0.05  # right after a failed attempt: no new wait
    await conn.close()
    server.close()
    await server.wait_closed()
