"""Relaying a response to a client that may leave at any moment.

:class:`RelayStream` sends events as they arrive and watches the client's
connection at the same time: when the client leaves, the relay is cancelled,
which closes the upstream request too. :func:`until_disconnect` does the same
for a request still waiting on its upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

T = TypeVar("T")


class ClientGone(Exception):
    """The client closed its connection before the answer was ready."""


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _race(work: asyncio.Future[T], receive: Receive) -> T:
    watcher = asyncio.ensure_future(_disconnected(receive))
    racers: set[asyncio.Future[Any]] = {work, watcher}
    try:
        await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        # Cancelled from outside: the work must have stopped before the caller goes on
        # (it may be running a generator the caller is about to close).
        work.cancel()
        await asyncio.wait({work})
        raise
    finally:
        watcher.cancel()
    if not work.done():
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
        raise ClientGone
    return work.result()


async def until_disconnect(request: Request, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``, cancelling it (and raising :class:`ClientGone`) if the client leaves.

    One watcher task listens for the disconnect and cancels the waiting task; the
    awaitable runs in the caller's own task, which costs less than racing two tasks.
    """
    current = asyncio.current_task()
    assert current is not None
    gone = done = False

    def on_disconnect(watcher: asyncio.Task[None]) -> None:
        # Callbacks run on a later loop turn: by then the await may be over.
        nonlocal gone
        if not done and not watcher.cancelled() and watcher.exception() is None:
            gone = True
            current.cancel()

    watcher = asyncio.ensure_future(_disconnected(request.receive))
    watcher.add_done_callback(on_disconnect)
    try:
        return await awaitable
    except asyncio.CancelledError:
        if not gone or current.uncancel() > 0:
            raise  # cancelled from outside as well: that cancellation goes on
        raise ClientGone from None
    finally:
        done = True
        watcher.remove_done_callback(on_disconnect)
        watcher.cancel()


class RelayStream(Response):
    """A streaming response that cancels its source the moment the client disconnects.

    ``on_close`` runs once when the response is over, however it ended, even if the
    source never started.
    """

    def __init__(
        self,
        source: AsyncIterator[bytes],
        *,
        on_close: Callable[[], None],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str = "text/event-stream",
    ) -> None:
        self.source = source
        self.on_close = on_close
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)

    async def _send_all(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for chunk in self.source:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await _race(asyncio.ensure_future(self._send_all(send)), receive)
        except (ClientGone, OSError):
            pass  # the source's own cleanup has run: nothing is left to send to
        finally:
            try:
                aclose = getattr(self.source, "aclose", None)
                if aclose is not None:
                    await aclose()
            finally:
                self.on_close()
