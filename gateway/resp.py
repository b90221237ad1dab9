"""One Redis connection that carries every caller's commands back to back.

Redis answers the commands of a connection in the order they arrived, so many
coroutines can share one connection without waiting for each other: each
writes its command and waits for the reply in its place in the queue. On the
gateway's hot path this costs a fraction of a general-purpose client's
per-call work, and concurrent admissions pipeline by themselves.

A connection that breaks or stops answering fails every waiting call with
:class:`RespError` and is replaced on the next call. Connecting is
single-flight: callers arriving meanwhile share the attempt, and for a short
while after a failed attempt calls fail at once instead of queueing behind
timeouts.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import ssl
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis


class RespError(Exception):
    """Redis could not be reached, broke the connection, or answered with an error."""


def encode(args: tuple[bytes | str | int, ...]) -> bytes:
    out = bytearray(b"*%d\r\n" % len(args))
    for arg in args:
        if isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, int):
            data = b"%d" % arg
        else:
            data = arg
        out += b"$%d\r\n" % len(data)
        out += data
        out += b"\r\n"
    return bytes(out)


RETRY_AFTER_FAILURE_SECONDS = 0.5


class RespConnection:
    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"not a Redis URL: {url!r}")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 6379
        self._tls = parts.scheme == "rediss"
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._db = int(parts.path.lstrip("/") or 0)
        self._timeout = timeout
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._connecting: asyncio.Future[asyncio.StreamWriter] | None = None
        self._failed: tuple[float, RespError] | None = None

    async def call(self, *args: bytes | str | int) -> Any:
        """Send one command and return its reply (an error reply raises :class:`RespError`)."""
        writer = self._writer if self._writer is not None else await self._connected()
        return await self._send(writer, args)

    async def _send(self, writer: asyncio.StreamWriter, args: tuple[bytes | str | int, ...]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        writer.write(encode(args))
        try:
            async with asyncio.timeout(self._timeout):
                reply = await future
        except TimeoutError as e:
            # Replies past this one would be matched to the wrong callers: start afresh.
            self._break(RespError("Redis did not answer in time"))
            raise RespError(f"Redis at {self._host}:{self._port} did not answer in time") from e
        if isinstance(reply, hiredis.ReplyError):
            raise RespError(str(reply))
        return reply

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        self._break(RespError("connection closed"))

    async def _connected(self) -> asyncio.StreamWriter:
        """The connection, made by one attempt that every caller meanwhile shares."""
        if self._failed is not None:
            failed_at, error = self._failed
            if time.monotonic() - failed_at < RETRY_AFTER_FAILURE_SECONDS:
                raise error
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._connect())
            self._connecting.add_done_callback(self._connect_done)
        return await asyncio.shield(self._connecting)

    def _connect_done(self, attempt: asyncio.Future[asyncio.StreamWriter]) -> None:
        self._connecting = None
        if attempt.cancelled():
            return
        error = attempt.exception()
        if isinstance(error, RespError):
            self._failed = (time.monotonic(), error)
        elif error is None:
            self._failed = None

    async def _connect(self) -> asyncio.StreamWriter:
        try:
            async with asyncio.timeout(self._timeout):
                reader, writer = await asyncio.open_connection(
                    self._host,
                    self._port,
                    ssl=ssl.create_default_context() if self._tls else None,
                )
        except (OSError, TimeoutError) as e:
            raise RespError(f"cannot reach Redis at {self._host}:{self._port}: {e}") from e
        self._reader_task = asyncio.ensure_future(self._read(reader))
        self._writer = None  # installed only once the handshake has passed
        try:
            for command in self._handshake():
                await self._send(writer, command)
        except BaseException as e:
            self._writer = writer  # so that _break closes it
            self._break(RespError(f"Redis refused the connection's set-up: {e}"))
            raise
        self._writer = writer
        return writer

    def _handshake(self) -> list[tuple[str | int, ...]]:
        commands: list[tuple[str | int, ...]] = []
        if self._password is not None:
            user = (self._username,) if self._username else ()
            commands.append(("AUTH", *user, self._password))
        if self._db:
            commands.append(("SELECT", self._db))
        return commands

    async def _read(self, reader: asyncio.StreamReader) -> None:
        parser = hiredis.Reader()
        try:
            while data := await reader.read(65536):
                parser.feed(data)
                while (reply := parser.gets()) is not False:
                    future = self._waiting.popleft()
                    if not future.done():
                        future.set_result(reply)
        except (OSError, IndexError, hiredis.ProtocolError) as e:
            self._break(RespError(f"Redis connection broke: {e}"))
            return
        self._break(RespError("Redis closed the connection"))

    def _break(self, error: RespError) -> None:
        writer, self._writer = self._writer, None
        task, self._reader_task = self._reader_task, None
        waiting, self._waiting = self._waiting, collections.deque()
        for future in waiting:
            if not future.done():
                future.set_exception(error)
        if writer is not None:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()
        if task is not None and task is not asyncio.current_task():
            task.cancel()


class LuaScript:
    """A Lua script run by its SHA1 (``EVALSHA``), loaded from a file beside its user."""

    def __init__(self, path: Path) -> None:
        self.source = path.read_text()
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()  # noqa: S324 (Redis names scripts so)

    async def run(self, redis: RespConnection, keys: list[str], args: list[Any]) -> Any:
        """``EVALSHA``, or ``EVAL`` once where this Redis does not know the script yet
        (first use, or after a restart). Errors are :class:`RespError`."""
        try:
            return await redis.call("EVALSHA", self.sha, len(keys), *keys, *args)
        except RespError as e:
            if not str(e).startswith("NOSCRIPT"):
                raise
            return await redis.call("EVAL", self.source, len(keys), *keys, *args)
