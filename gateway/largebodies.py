"""Large request bodies, parsed and counted off the event loop within a CPU share per key.

Parsing a body and counting its tokens takes CPU in proportion to its size (about
20 ms for 1 MiB of tiny messages), and the worker threads that do it hold the
interpreter's lock while they run: a key sending large bodies back to back would
take the event loop's time from every other request. So each key's large bodies
are worked on one at a time, and within ``share`` of one CPU: the CPU time each
one took is owed, and repaid at ``share`` seconds per second before the key's
next large body starts. A body that would wait longer than ``max_wait_seconds``
is refused (429) instead of held.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from typing import Any, TypeVar

from gateway.errors import RateLimited

T = TypeVar("T")
SIZE = 64 * 1024
"""Bodies this large are worked on in the workers; smaller ones on the event loop."""
WORKERS = 2
"""At most this many large bodies are worked on at once, all keys together."""


class _Account:
    __slots__ = ("last_debt", "lock", "owed_until", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.owed_until = 0.0
        """When the CPU time taken so far is repaid (the monotonic clock)."""
        self.last_debt = 0.0
        """What the last body cost, in seconds of waiting: the guess for each queued one."""
        self.users = 0


class LargeBodies:
    def __init__(
        self,
        *,
        share: float,
        max_wait_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._share = share
        self._max_wait = max_wait_seconds
        self._clock = clock
        self._accounts: dict[str, _Account] = {}
        self._workers = concurrent.futures.ThreadPoolExecutor(
            WORKERS, thread_name_prefix="large-bodies"
        )

    def check(self, key: str) -> None:
        """Refuse (429) a large body of ``key`` that would wait too long for its turn: its
        own CPU time owed, and the bodies queued before it, each guessed to cost what the
        last one did. Called once more before the body is read, when its length is known."""
        account = self._accounts.get(key)
        if account is None:
            return
        wait = account.owed_until - self._clock() + account.users * account.last_debt
        if wait > self._max_wait:
            raise RateLimited(
                "Large request bodies from this key take more than their share of the "
                f"gateway's CPU; retry in {wait:.1f}s, or send smaller bodies.",
                code="large_body_share_exceeded",
                headers={"retry-after": str(max(1, round(wait)))},
            )

    async def run(self, key: str, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in a worker, in ``key``'s turn and within its CPU share."""
        account = self._accounts.get(key) or _Account()
        self._accounts[key] = account
        self.check(key)
        account.users += 1
        try:
            async with account.lock:
                wait = account.owed_until - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                loop = asyncio.get_running_loop()
                result, cpu = await loop.run_in_executor(self._workers, _timed, work, args)
                account.last_debt = cpu / self._share
                account.owed_until = (
                    max(account.owed_until, self._clock() - cpu) + account.last_debt
                )
                return result
        finally:
            account.users -= 1
            if not account.users and account.owed_until <= self._clock():
                del self._accounts[key]

    def close(self) -> None:
        self._workers.shutdown(wait=False)


def _timed(work: Callable[..., T], args: tuple[Any, ...]) -> tuple[T, float]:
    """The result, and the CPU time this thread spent on it."""
    started = time.thread_time()
    result = work(*args)
    return result, time.thread_time() - started
