"""Limits shared by every gateway replica: one atomic Lua script per admission.

The script reads the clock of Redis itself, so replicas with drifting clocks
still agree on every window. Calls travel on one pipelined connection
(:mod:`gateway.resp`), so concurrent admissions never queue for a
connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.errors import ServiceUnavailable
from gateway.ratelimit.base import (
    Admission,
    Limit,
    LimitState,
    Unseeded,
    cost_of,
    settled,
)
from gateway.resp import LuaScript, RespConnection, RespError

_HERE = Path(__file__).parent


_ADMIT = LuaScript(_HERE / "admit.lua")
_SETTLE = LuaScript(_HERE / "settle.lua")
_SEED = LuaScript(_HERE / "seed.lua")


def _keys(limit: Limit) -> tuple[str, str, str]:
    return (f"{limit.key}:z", f"{limit.key}:h", f"{limit.key}:s")


class RedisRateLimiter:
    def __init__(self, connection: RespConnection) -> None:
        self._redis = connection

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 1.0) -> RedisRateLimiter:
        return cls(RespConnection(url, timeout=timeout))

    async def admit(
        self, limits: Sequence[Limit], *, tokens: int, money: int = 0, reservation: str
    ) -> Admission:
        if not limits:
            return Admission(
                admitted=True, reservation=reservation, retry_after_seconds=0.0, states=()
            )
        keys = [k for limit in limits for k in _keys(limit)]
        args: list[str | int] = [reservation, len(limits)]
        for limit in limits:
            args += [
                round(limit.window_seconds * 1000),
                limit.limit,
                cost_of(limit, tokens, money),
                int(limit.period),
            ]
        out = await self._run(_ADMIT, keys, args)
        if int(out[0]) == -1:
            raise Unseeded([limits[int(i) - 1] for i in out[1:]])
        states = tuple(
            LimitState(
                limit=limit,
                remaining=max(0, limit.limit - int(out[2 + 3 * i])),
                reset_seconds=0.0 if limit.period else int(out[3 + 3 * i]) / 1000,
                exceeded=bool(int(out[4 + 3 * i])),
                pending=int(out[3 + 3 * i]) if limit.period else 0,
            )
            for i, limit in enumerate(limits)
        )
        return Admission(
            admitted=bool(int(out[0])),
            reservation=reservation,
            retry_after_seconds=int(out[1]) / 1000,
            states=states,
        )

    async def seed(self, limit: Limit, used: int) -> None:
        await self._run(_SEED, list(_keys(limit)), [used, round(limit.window_seconds * 2000)])

    async def settle(
        self, limits: Sequence[Limit], *, reservation: str, tokens: int, money: int = 0
    ) -> None:
        corrected = settled(limits, tokens, money)
        if corrected:
            keys = [k for limit, _ in corrected for k in _keys(limit)]
            args: list[str | int] = [reservation]
            for limit, cost in corrected:
                args += [cost, int(limit.period)]
            await self._run(_SETTLE, keys, args)

    async def ping(self) -> None:
        try:
            await self._redis.call("PING")
        except RespError as e:
            raise ServiceUnavailable(
                "The rate-limit store is unreachable; retry shortly.", code="limit_store_down"
            ) from e

    async def close(self) -> None:
        await self._redis.close()

    async def _run(self, script: LuaScript, keys: list[str], args: list[str | int]) -> Any:
        try:
            return await script.run(self._redis, keys, list(args))
        except RespError as e:
            raise ServiceUnavailable(
                "The rate-limit store is unreachable; retry shortly.", code="limit_store_down"
            ) from e
