"""Waiting for a condition, with a generous deadline (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_until(
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], deadline: float = 10.0
) -> T:
    """Read until ``done(value)``; fail with the last value after ``deadline`` seconds."""
    started = time.monotonic()
    while True:
        value = await read()
        if done(value):
            return value
        assert time.monotonic() - started < deadline, f"still {value!r} after {deadline} s"
        await asyncio.sleep(0.02)
