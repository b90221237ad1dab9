"""Who is calling: API keys checked against the key store, trusted for a few seconds.

A replica keeps each looked-up key for ``key_cache_seconds`` (unknown keys for
at most one second), so a revocation or rotation reaches every replica within
that time without a database query on every request. When the key store does not
answer, a key this replica saw valid within ``key_stale_seconds`` is still served
(counted in ``llmops_gateway_keys_served_stale_total``): a database outage does not
stop the traffic of known keys, for a bounded time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from collections import OrderedDict
from collections.abc import Callable

from gateway.errors import AuthenticationFailed, RateLimited, ServiceUnavailable
from gateway.keys import material
from gateway.keys.store import KeyStore, Principal

MAX_CACHED_KEYS = 100_000
NEGATIVE_SECONDS = 1.0


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationFailed(
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'."
        )
    token = bearer(authorization)
    if token is None:
        raise AuthenticationFailed("The Authorization header must be 'Bearer <key>'.")
    return token


class FailedAttempts:
    """Unknown keys per caller address over the last minute (0: no limit), bounded in
    addresses kept."""

    WINDOW = 60.0
    MAX_ADDRESSES = 100_000

    def __init__(self, per_minute: int) -> None:
        self._limit = per_minute
        self._seen: OrderedDict[str, list[float]] = OrderedDict()

    def add(self, client: str, now: float) -> None:
        if not self._limit:
            return
        times = self._seen.pop(client, [])
        times = [t for t in times if now - t < self.WINDOW][-self._limit :]
        times.append(now)
        self._seen[client] = times
        while len(self._seen) > self.MAX_ADDRESSES:
            self._seen.popitem(last=False)

    def exceeded(self, client: str, now: float) -> bool:
        if not self._limit:
            return False
        times = self._seen.get(client) or []
        return sum(now - t < self.WINDOW for t in times) >= self._limit


class Authenticator:
    def __init__(
        self,
        store: KeyStore,
        *,
        cache_seconds: float,
        stale_seconds: float = 0.0,
        served_stale: Callable[[], None] = lambda: None,
        failures_per_minute: int = 0,
        refresh_wait_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._store = store
        self._wall = wall
        """The time keys' expiry is checked against (on every request: a cached key
        expires on time too)."""
        self._refresh_wait = refresh_wait_seconds
        self._ttl = cache_seconds
        self._stale = stale_seconds
        self._served_stale = served_stale
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()
        """Token to when the store last answered for it, and what (None: unknown)."""
        self._failures = FailedAttempts(failures_per_minute)
        self._pending: dict[str, asyncio.Future[Principal | None]] = {}
        self._slow: set[str] = set()
        """Keys whose pending lookup a request already gave up waiting for: the next
        requests do not wait again, they are served as last seen at once."""
        self._store_down = False
        """Whether the last lookup to end failed: until one succeeds, known keys are
        served as last seen at once while their lookups go on."""

    async def authenticate(self, authorization: str | None, client: str = "") -> Principal:
        """The key's principal. ``client`` (the caller's address) is refused for a while
        after ``failures_per_minute`` unknown keys, without asking the store (keys this
        replica has seen valid are still looked up)."""
        token = bearer_token(authorization)
        if not material.well_formed(token):
            raise AuthenticationFailed("Incorrect API key provided.")  # not one of ours
        now = self._clock()
        cached = self._cache.get(token)
        known = cached is not None and cached[1] is not None
        if cached is not None and cached[0] + self._trusted_for(cached[1]) > now:
            principal = cached[1]
            self._cache.move_to_end(token)  # recently used keys are the last evicted
        elif self._failures.exceeded(client, now) and not known:
            raise RateLimited(
                "Too many failed authentications from this address; retry in a minute.",
                code="too_many_failed_authentications",
                headers={"retry-after": "60"},
            )
        else:
            wait = None
            if known and self._refresh_wait is not None:
                wait = 0.0 if self._store_down or token in self._slow else self._refresh_wait
            try:
                principal = await self._look_up(token, wait=wait)
            except TimeoutError:
                self._slow.add(token)
                principal = self._stale_principal(cached, now)
            except ServiceUnavailable:
                principal = self._stale_principal(cached, now)
        if principal is None:
            self._failures.add(client, now)
            raise AuthenticationFailed("Incorrect API key provided.")
        if principal.expired(self._wall()):
            assert principal.expires_at is not None
            raise AuthenticationFailed(
                f"This API key expired at {principal.expires_at.isoformat()}; ask for a new one.",
                code="expired_api_key",
            )
        return principal

    async def drain(self, seconds: float) -> None:
        """Let the key lookups still running end (at shutdown, within ``seconds``): a
        query cancelled in the driver goes on in its thread after the loop is gone."""
        if self._pending:
            await asyncio.wait(set(self._pending.values()), timeout=seconds)

    async def _look_up(self, token: str, *, wait: float | None) -> Principal | None:
        """One store query per key at a time: concurrent requests share its answer. With
        ``wait``, give up waiting after it (:class:`TimeoutError`); the query goes on, and
        its answer is remembered when it comes."""
        lookup = self._pending.get(token)
        if lookup is None:
            lookup = asyncio.ensure_future(self._store.principal(token))
            self._pending[token] = lookup
            lookup.add_done_callback(functools.partial(self._looked_up, token))
        async with asyncio.timeout(wait):
            return await asyncio.shield(lookup)

    def _looked_up(self, token: str, lookup: asyncio.Future[Principal | None]) -> None:
        if self._pending.get(token) is lookup:
            del self._pending[token]
            self._slow.discard(token)
        if lookup.cancelled():
            return
        self._store_down = lookup.exception() is not None
        if not self._store_down:
            self._remember(token, lookup.result())

    def _trusted_for(self, principal: Principal | None) -> float:
        return self._ttl if principal is not None else min(self._ttl, NEGATIVE_SECONDS)

    def _remember(self, token: str, principal: Principal | None) -> None:
        self._cache[token] = (self._clock(), principal)
        self._cache.move_to_end(token)
        while len(self._cache) > MAX_CACHED_KEYS:
            self._cache.popitem(last=False)

    def _stale_principal(
        self, cached: tuple[float, Principal | None] | None, now: float
    ) -> Principal:
        """The key's last known principal while the store is down, if recent enough."""
        if cached is None or cached[1] is None or now - cached[0] > self._stale:
            raise ServiceUnavailable("The key store is unreachable.", code="key_store_down")
        self._served_stale()
        return cached[1]
