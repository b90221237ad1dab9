"""A TCP relay between a client and a real server, whose link can be cut: the network's
faults, which a test cannot ask of the server itself (a database host that stops
answering, or refuses connections)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from tests.support.services import free_port


class Link(StrEnum):
    UP = "up"
    BLACKHOLE = "blackhole"
    """Connections are accepted and bytes taken, but nothing goes through either way."""
    REFUSE = "refuse"
    """New connections are closed at once; open ones are cut."""


class Relay:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.port = free_port()
        self.link = Link.UP
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relay", daemon=True)

    def set(self, link: Link) -> None:
        self.link = link
        if link is Link.REFUSE:
            self._loop.call_soon_threadsafe(self._cut_all)

    def _cut_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
            writer.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._cut_all()
            pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(
                asyncio.gather(server.wait_closed(), *pending, return_exceptions=True)
            )
            self._loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.link is Link.REFUSE:
            writer.transport.abort()
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            writer.close()
            return
        self._writers.update((writer, up_writer))
        pipes = {
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        }
        # One side closing ends both: a client waiting for the server to close after its
        # goodbye (PostgreSQL's Terminate) would otherwise wait forever.
        with contextlib.suppress(asyncio.CancelledError):  # the relay stopping: a normal end
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for pipe in pipes:
            pipe.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
        self._writers.difference_update((writer, up_writer))
        for w in (writer, up_writer):
            w.transport.abort()
            w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            while self.link is Link.BLACKHOLE:
                await asyncio.sleep(0.01)  # held, as a dead host holds them
            writer.write(data)
            await writer.drain()

    def start(self) -> Relay:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@contextlib.contextmanager
def relay(host: str, port: int) -> Iterator[Relay]:
    r = Relay(host, port).start()
    try:
        yield r
    finally:
        r.stop()


@contextlib.contextmanager
def relayed(url: str) -> Iterator[tuple[str, Relay]]:
    """A relay to the server of ``url`` (``scheme://user@host:port/...``), and ``url``
    rewritten to reach that server through it."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    with relay(parts.hostname or "127.0.0.1", parts.port or 5432) as link:
        yield urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{link.port}")), link
