"""Limits shared by every gateway replica: one atomic Lua script per admission.

The script reads the clock of Redis itself, so replicas with drifting clocks
still agree on every window.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.errors import ServiceUnavailable
from gateway.ratelimit.base import Admission, Limit, LimitKind, LimitState, cost_of

_HERE = Path(__file__).parent
_ADMIT = (_HERE / "admit.lua").read_text()
_SETTLE = (_HERE / "settle.lua").read_text()


def _keys(limit: Limit) -> tuple[str, str, str]:
    return (f"{limit.key}:z", f"{limit.key}:h", f"{limit.key}:s")


class RedisRateLimiter:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client
        self._admit = client.register_script(_ADMIT)
        self._settle = client.register_script(_SETTLE)

    @classmethod
    def from_url(cls, url: str, *, max_connections: int = 256) -> RedisRateLimiter:
        # A blocking pool: a burst beyond max_connections waits for a connection
        # instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=2.0,
            socket_timeout=2.0,
            socket_connect_timeout=2.0,
        )
        return cls(aioredis.Redis.from_pool(pool))  # the client owns and closes the pool

    async def admit(self, limits: Sequence[Limit], *, tokens: int, reservation: str) -> Admission:
        if not limits:
            return Admission(
                admitted=True, reservation=reservation, retry_after_seconds=0.0, states=()
            )
        keys = [k for limit in limits for k in _keys(limit)]
        args: list[Any] = [reservation, len(limits)]
        for limit in limits:
            args += [round(limit.window_seconds * 1000), limit.limit, cost_of(limit, tokens)]
        try:
            out = await self._admit(keys=keys, args=args)
        except RedisError as e:
            raise ServiceUnavailable(f"rate-limit store unreachable: {e}") from e
        states = tuple(
            LimitState(
                limit=limit,
                remaining=max(0, limit.limit - int(out[2 + 3 * i])),
                reset_seconds=int(out[3 + 3 * i]) / 1000,
                exceeded=bool(int(out[4 + 3 * i])),
            )
            for i, limit in enumerate(limits)
        )
        return Admission(
            admitted=bool(int(out[0])),
            reservation=reservation,
            retry_after_seconds=int(out[1]) / 1000,
            states=states,
        )

    async def settle(self, limits: Sequence[Limit], *, reservation: str, tokens: int) -> None:
        keys = [k for limit in limits if limit.kind is LimitKind.TOKENS for k in _keys(limit)[1:]]
        if not keys:
            return
        try:
            await self._settle(keys=keys, args=[reservation, tokens])
        except RedisError as e:
            raise ServiceUnavailable(f"rate-limit store unreachable: {e}") from e

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except RedisError as e:
            raise ServiceUnavailable(f"rate-limit store unreachable: {e}") from e

    async def close(self) -> None:
        await self._redis.aclose()
