"""The upstream HTTP/1.1 client against a raw server that misbehaves on request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from gateway import http1
from tests.support.services import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """A TCP server whose every connection runs ``handler``; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1/chat"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return await reader.readexactly(length)


def reply(body: bytes, *extra: bytes) -> bytes:
    headers = b"".join(h + b"\r\n" for h in extra)
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), headers, body)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[RawServer]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> RawServer:
        raw = RawServer(handler)
        raw.server = await asyncio.start_server(raw._serve, "127.0.0.1", 0)
        servers.append(raw.server)
        return raw

    yield start
    for server in servers:
        server.close()


def pool(**overrides: float) -> http1.ConnectionPool:
    settings = {
        "max_connections": 4,
        "keepalive_seconds": 30.0,
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
    }
    settings.update(overrides)
    return http1.ConnectionPool(**settings)  # type: ignore[arg-type]


async def echo_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        body = await read_request(reader)
        writer.write(reply(body, b"x-seen: yes"))
        await writer.drain()


async def test_requests_reuse_one_keep_alive_connection(
    serve: Callable[..., Awaitable[RawServer]],
) -> None:
    server = await serve(echo_forever)
    client = pool()
    for i in range(20):
        response = await client.post(server.url, b"hello %d" % i, {"content-type": "text/plain"})
        assert (response.status, response.headers["x-seen"]) == (200, "yes")
        assert await response.read() == b"hello %d" % i
        response.release()
    assert server.connections == 1
    await client.close()


async def test_chunked_bodies_stream_as_they_come(
    serve: Callable[..., Awaitable[RawServer]],
) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for piece in (b"one ", b"two ", b"three"):
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        await echo_forever(reader, writer)

    server = await serve(chunked)
    client = pool()
    response = await client.post(server.url, b"{}", {})
    pieces = [chunk async for chunk in response.chunks()]
    assert pieces == [b"one ", b"two ", b"three"]
    response.release()
    again = await client.post(server.url, b"next", {})  # the connection went back to the pool
    assert await again.read() == b"next"
    again.release()
    assert server.connections == 1
    await client.close()


async def test_a_body_without_length_ends_with_the_connection(
    serve: Callable[..., Awaitable[RawServer]],
) -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        await writer.drain()

    server = await serve(until_close)
    client = pool()
    response = await client.post(server.url, b"{}", {})
    assert await response.read() == b"all of it"
    response.release()
    await client.close()


async def test_an_idle_connection_the_server_closed_is_replaced_silently(
    serve: Callable[..., Awaitable[RawServer]],
) -> None:
    async def one_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = await read_request(reader)
        writer.write(reply(body))  # says keep-alive, then closes: a server's idle timeout
        await writer.drain()

    server = await serve(one_request)
    client = pool()
    for body in (b"first", b"second", b"third"):
        response = await client.post(server.url, body, {})
        assert await response.read() == body
        response.release()
        await asyncio.sleep(0.05)
    assert server.connections == 3
    await client.close()


async def test_failures_are_told_apart(serve: Callable[..., Awaitable[RawServer]]) -> None:
    client = pool(read_timeout=0.2)
    with pytest.raises(http1.ConnectFailed):
        await client.post(f"http://127.0.0.1:{free_port()}/v1", b"{}", {})

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    with pytest.raises(http1.ReadTimeout):
        await client.post((await serve(silent)).url, b"{}", {})

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        await reader.read()

    with pytest.raises(http1.ConnectionBroken):
        await client.post((await serve(garbage)).url, b"{}", {})

    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
        await writer.drain()

    response = await client.post((await serve(cut)).url, b"{}", {})
    with pytest.raises(http1.ConnectionBroken):
        await response.read()
    response.release()
    await client.close()


async def test_abandoned_responses_give_their_slot_back(
    serve: Callable[..., Awaitable[RawServer]],
) -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        while True:
            writer.write(b"4000\r\n" + b"x" * 0x4000 + b"\r\n")
            await writer.drain()

    server = await serve(endless)
    client = pool(max_connections=1)
    for _ in range(3):  # one slot: each request can only start if the last one gave it back
        response = await asyncio.wait_for(client.post(server.url, b"{}", {}), 2)
        chunks = response.chunks()
        assert await anext(chunks)
        await asyncio.sleep(0.05)  # the server outpaces us: reading pauses, memory stays bounded
        # At most the high-water mark plus one socket read (256 KiB) is buffered.
        assert response._buffered <= http1.HIGH_WATER + 256 * 1024
        await chunks.aclose()
        response.release()
    assert server.connections == 3
    await client.close()
