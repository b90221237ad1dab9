"""The relay's races: a client leaving, an answer arriving and a cancellation, in any order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.relay import ClientGone, RelayStream, until_disconnect


def receiver(after_turns: int | None) -> Any:
    """An ASGI ``receive`` whose client leaves after this many loop turns (or never)."""

    async def receive() -> dict[str, Any]:
        if after_turns is None:
            await asyncio.Event().wait()
        for _ in range(after_turns or 0):
            await asyncio.sleep(0)
        return {"type": "http.disconnect"}

    return receive


async def turns(n: int, value: int) -> int:
    for _ in range(n):
        await asyncio.sleep(0)
    return value


async def test_an_answer_arriving_as_the_client_leaves_is_not_cancelled_afterwards() -> None:
    # The client's departure completes in the same loop turn as the answer: its callback
    # runs after until_disconnect has returned, and must not cancel the caller then.
    request = SimpleNamespace(receive=receiver(1))
    assert await until_disconnect(request, turns(2, 42)) == 42  # type: ignore[arg-type]
    await asyncio.sleep(0.01)  # a stray cancellation would land here


async def test_a_client_leaving_first_is_client_gone() -> None:
    request = SimpleNamespace(receive=receiver(0))
    with pytest.raises(ClientGone):
        await until_disconnect(request, asyncio.sleep(5, 1))  # type: ignore[arg-type]
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_an_outside_cancellation_stays_a_cancellation() -> None:
    request = SimpleNamespace(receive=receiver(None))
    task = asyncio.ensure_future(until_disconnect(request, asyncio.sleep(5, 1)))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


class Source:
    def __init__(self, chunks: int, delay: float = 0.0) -> None:
        self.chunks, self.delay = chunks, delay
        self.started = self.finalized = False

    async def events(self) -> AsyncIterator[bytes]:
        self.started = True
        try:
            for i in range(self.chunks):
                await asyncio.sleep(self.delay)
                yield b"data: %d\n\n" % i
        finally:
            self.finalized = True


def stream_of(source: Source, closed: list[int]) -> RelayStream:
    return RelayStream(source.events(), on_close=lambda: closed.append(1))


async def test_on_close_runs_once_when_the_stream_completes() -> None:
    source, closed, sent = Source(3), [], []  # type: ignore[var-annotated]

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await stream_of(source, closed)({}, receiver(None), send)
    assert closed == [1] and source.finalized
    assert [m.get("body") for m in sent[1:]] == [
        b"data: 0\n\n",
        b"data: 1\n\n",
        b"data: 2\n\n",
        b"",
    ]


async def test_on_close_runs_when_the_client_is_gone_before_the_first_byte() -> None:
    source, closed = Source(3), []  # type: ignore[var-annotated]

    async def send(message: MutableMapping[str, Any]) -> None:
        raise OSError("connection reset")

    await stream_of(source, closed)({}, receiver(None), send)
    assert closed == [1]
    assert not source.started


async def test_on_close_runs_when_the_server_cancels_mid_stream() -> None:
    source, closed = Source(100, delay=0.01), []  # type: ignore[var-annotated]

    async def send(message: MutableMapping[str, Any]) -> None:
        pass

    task = asyncio.ensure_future(stream_of(source, closed)({}, receiver(None), send))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == [1] and source.finalized


async def test_a_client_leaving_mid_stream_stops_the_source() -> None:
    source, closed = Source(100, delay=0.01), []  # type: ignore[var-annotated]

    async def send(message: MutableMapping[str, Any]) -> None:
        pass

    await stream_of(source, closed)({}, receiver(5), send)
    assert closed == [1] and source.finalized
