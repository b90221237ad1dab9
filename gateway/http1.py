"""A small HTTP/1.1 client for the gateway's calls to model replicas.

The gateway asks one thing of its upstream client: send a POST over a pooled
keep-alive connection and hand back the status, the headers and the body, whole
or chunk by chunk, as fast as possible. A general-purpose client spends a
quarter of a millisecond per request on what this module does not need
(cookies, redirects, hooks, request objects); this one writes the request in
one call and parses the answer with ``httptools`` as it arrives.

Failures are its own exceptions, translated to the gateway's errors in
:mod:`gateway.upstream`: :class:`ConnectFailed` (no connection could be made,
the replica saw nothing), :class:`ReadTimeout`, :class:`ConnectionBroken`.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

HIGH_WATER = 256 * 1024
"""Buffered body bytes past which the connection stops reading until the consumer catches up."""


class HttpClientError(Exception):
    """A call to a replica failed at the transport level."""


class ConnectFailed(HttpClientError):
    """No connection could be made: the request was never sent."""


class ReadTimeout(HttpClientError):
    """The replica sent nothing for longer than the read timeout."""


class ResponseTooLarge(HttpClientError):
    """A body read whole went past the limit it was read with."""


class ConnectionBroken(HttpClientError):
    """The connection closed, or the replica answered with something not HTTP."""


@dataclass(frozen=True, slots=True)
class Target:
    """A URL cut into what a request needs, parsed once per URL."""

    origin: tuple[str, str, int]
    path: bytes
    host: bytes

    @classmethod
    def of(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls((parts.scheme, parts.hostname, port), path.encode(), parts.netloc.encode())


class Response:
    """A replica's answer: status and headers at once, the body as it arrives.

    Give it back with :meth:`release` once done: a body read to its end returns
    the connection to the pool, anything else closes it.
    """

    def __init__(self, connection: _Connection, read_timeout: float) -> None:
        self._connection = connection
        self._read_timeout = read_timeout
        self.status = 0
        self.headers: dict[str, str] = {}
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._head: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._body: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._complete = False
        self._error: HttpClientError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._released = False
        self._whole = False
        self._until_close = False
        self.received_bytes = False

    async def read(self, max_bytes: int | None = None) -> bytes:
        """The whole body (:class:`ResponseTooLarge` past ``max_bytes``)."""
        self._whole = True  # no flow control: the body is wanted in one piece
        self._connection.resume()
        while not self._complete:
            if max_bytes is not None and self._buffered > max_bytes:
                raise ResponseTooLarge(f"the body exceeds {max_bytes} bytes")
            await self._wait()
        if max_bytes is not None and self._buffered > max_bytes:
            raise ResponseTooLarge(f"the body exceeds {max_bytes} bytes")
        body = b"".join(self._body)
        self._body.clear()
        return body

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The body in the pieces it arrives in."""
        while True:
            if self._body:
                chunk = b"".join(self._body)
                self._body.clear()
                self._take(len(chunk))
                yield chunk
            elif self._complete:
                return
            else:
                await self._wait()

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._connection.finished(reusable=self._complete and self._error is None)

    # -- fed by the connection -----------------------------------------------------------

    def _got_header(self, name: bytes, value: bytes) -> None:
        self.received_bytes = True
        self._raw_headers.append((name, value))

    def _got_head(self, status: int) -> None:
        self.status = status
        self.headers = {
            n.decode("latin-1").lower(): v.decode("latin-1") for n, v in self._raw_headers
        }
        # Neither a length nor chunks: the body ends when the replica closes the connection.
        self._until_close = (
            "content-length" not in self.headers
            and "chunked" not in self.headers.get("transfer-encoding", "")
            and status not in (204, 304)
        )
        if not self._head.done():
            self._head.set_result(None)

    def _got_body(self, data: bytes) -> None:
        self._body.append(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER and not self._whole:
            self._connection.pause()
        self._wake()

    def _got_end(self) -> None:
        self._complete = True
        self._wake()

    def _closed(self) -> None:
        if self._head.done() and self._until_close:
            self._got_end()
        else:
            self._fail(ConnectionBroken("the replica closed the connection"))

    def _fail(self, error: HttpClientError) -> None:
        if self._complete:
            return
        self._error = error
        if not self._head.done():
            self._head.set_exception(error)
        self._wake()

    # -- waiting -------------------------------------------------------------------------

    async def _wait_head(self) -> None:
        try:
            async with asyncio.timeout(self._read_timeout):
                await self._head
        except TimeoutError as e:
            raise ReadTimeout("the replica sent no response in time") from e

    async def _wait(self) -> None:
        if self._error is not None:
            raise self._error
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(self._read_timeout):
                await self._waiter
        except TimeoutError as e:
            raise ReadTimeout("the replica stopped sending") from e
        finally:
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _take(self, size: int) -> None:
        self._buffered -= size
        if self._buffered <= HIGH_WATER // 4:
            self._connection.resume()


class _Connection(asyncio.Protocol):
    """One keep-alive connection, carrying one request at a time."""

    def __init__(self, pool: ConnectionPool, origin: tuple[str, str, int]) -> None:
        self._pool = pool
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._response: Response | None = None
        self._paused = False
        self._keep_alive = True
        self.closed = False
        self.in_use = True
        self.idle_since = 0.0
        self.used = False

    def start(self, response: Response, request: bytes) -> None:
        assert self.transport is not None
        self._response = response
        self.transport.write(request)

    def finished(self, *, reusable: bool) -> None:
        """The response is done with: back to the pool, or closed."""
        self._response = None
        self.resume()
        if reusable and self._keep_alive and not self.closed:
            self.used = True
            self._pool.put_back(self)
        else:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()
            self._pool.forget(self)

    def pause(self) -> None:
        if not self._paused and self.transport is not None and not self.closed:
            self._paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self._paused and self.transport is not None and not self.closed:
            self._paused = False
            self.transport.resume_reading()

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's do not subclass asyncio.Transport).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._response is None:
            self.close()  # bytes nobody asked for: the connection cannot be trusted
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as e:
            self._response._fail(ConnectionBroken(f"the replica's answer is not valid HTTP: {e}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._response is not None:
            self._response._closed()
        self._pool.forget(self)

    # -- httptools callbacks -------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._response is not None:
            self._response._got_header(name, value)

    def on_headers_complete(self) -> None:
        if self._response is not None:
            self._response._got_head(self._parser.get_status_code())

    def on_body(self, body: bytes) -> None:
        if self._response is not None:
            self._response._got_body(body)

    def on_message_complete(self) -> None:
        if self._response is not None:
            self._keep_alive = self._parser.should_keep_alive()
            self._response._got_end()


class ConnectionPool:
    """Keep-alive connections per origin, at most ``max_connections`` open in all."""

    def __init__(
        self,
        *,
        max_connections: int,
        keepalive_seconds: float,
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._keepalive = keepalive_seconds
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._targets: dict[str, Target] = {}
        self._tls: ssl.SSLContext | None = None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """Send a POST; the response once its status line and headers are in."""
        return await self._send(url, _request(b"POST", self._target(url), body, headers))

    async def get(self, url: str, headers: Mapping[str, str]) -> Response:
        return await self._send(url, _request(b"GET", self._target(url), None, headers))

    def _target(self, url: str) -> Target:
        target = self._targets.get(url)
        if target is None:
            target = self._targets[url] = Target.of(url)
        return target

    async def _send(self, url: str, request: bytes) -> Response:
        target = self._target(url)
        while True:
            connection = await self._acquire(target.origin)
            reused = connection.used
            response = Response(connection, self._read_timeout)
            try:
                connection.start(response, request)
                await response._wait_head()
            except ConnectionBroken:
                response.release()
                if reused and not response.received_bytes:
                    continue  # an idle connection the replica had closed: the request never ran
                raise
            except BaseException:
                response.release()
                raise
            return response

    async def close(self) -> None:
        for connection in list(self._open):
            connection.close()

    # -- the pool ------------------------------------------------------------------------

    async def _acquire(self, origin: tuple[str, str, int]) -> _Connection:
        try:
            async with asyncio.timeout(self._connect_timeout):
                await self._slots.acquire()
        except TimeoutError as e:
            raise ConnectFailed("no connection free within the connect timeout") from e
        try:
            idle = self._idle.get(origin)
            now = time.monotonic()
            while idle:
                connection = idle.pop()
                if connection.closed or now - connection.idle_since > self._keepalive:
                    connection.close()
                    continue
                connection.in_use = True  # on the slot just taken
                return connection
            return await self._connect(origin)
        except BaseException:
            self._slots.release()
            raise

    async def _connect(self, origin: tuple[str, str, int]) -> _Connection:
        scheme, host, port = origin
        if scheme == "https" and self._tls is None:
            self._tls = ssl.create_default_context()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self, origin),
                    host,
                    port,
                    ssl=self._tls if scheme == "https" else None,
                )
        except (OSError, TimeoutError) as e:
            raise ConnectFailed(f"cannot connect to {host}:{port}: {e or type(e).__name__}") from e
        self._open.add(connection)
        return connection

    def put_back(self, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        connection.in_use = False
        self._idle.setdefault(connection.origin, []).append(connection)
        self._slots.release()

    def forget(self, connection: _Connection) -> None:
        """A connection closed: it leaves the pool, and gives its slot back if it held one."""
        if connection not in self._open:
            return
        self._open.discard(connection)
        idle = self._idle.get(connection.origin)
        if idle is not None and connection in idle:
            idle.remove(connection)
        if connection.in_use:
            connection.in_use = False
            self._slots.release()


def _request(
    method: bytes, target: Target, body: bytes | None, headers: Mapping[str, str]
) -> bytes:
    lines = [b"%s %s HTTP/1.1\r\nhost: %s\r\n" % (method, target.path, target.host)]
    if body is not None:
        lines.append(b"content-length: %d\r\n" % len(body))
    lines.extend(
        b"%s: %s\r\n" % (k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
    )
    lines.append(b"\r\n")
    if body is not None:
        lines.append(body)
    return b"".join(lines)
