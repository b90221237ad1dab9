"""The replicas of each model version and what the gateway knows of them.

A :class:`ModelPool` holds a model's versions (one, or several with weights for
a canary split), each with its replicas; :meth:`ModelPool.pick` applies the
model's strategy to the replicas that are healthy and whose circuit lets
requests through.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from gateway.routing import strategies
from gateway.routing.circuit import CircuitBreaker, CircuitState
from gateway.settings import CircuitSettings, ModelRoute, ShadowRoute
from gateway.spend.money import Rates


class Strategy(StrEnum):
    LEAST_OUTSTANDING = "least_outstanding"
    ROUND_ROBIN = "round_robin"
    SESSION = "session"
    PREFIX = "prefix"


@dataclass(slots=True, eq=False)
class Replica:
    url: str
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    outstanding: int = 0
    healthy: bool = True
    """As the last active health checks found it (always true without checks)."""
    probe_failures: int = 0
    answered_at: float = 0.0
    """When it last answered a request (the monotonic clock): a replica with requests in
    flight that neither answers them nor a probe is hung, not busy."""
    _waiting: set[Callable[[], None]] = field(default_factory=set)

    def available(self, now: float) -> bool:
        return self.healthy and self.breaker.available(now)

    def on_lost(self, abandon: Callable[[], None]) -> Callable[[], None]:
        """Call ``abandon`` if the replica goes out of rotation; the returned function
        stops that (a request waiting on the replica's answer registers so)."""
        self._waiting.add(abandon)
        return lambda: self._waiting.discard(abandon)

    def lost(self) -> None:
        """Out of rotation: the requests waiting on it give up, to be tried elsewhere."""
        waiting, self._waiting = self._waiting, set()
        for abandon in waiting:
            abandon()


@dataclass(slots=True, eq=False)
class VersionPool:
    version: str
    weight: float
    replicas: list[Replica]
    rates: Rates | None = None
    """What its tokens cost (``None``: no price, they cost nothing)."""


@dataclass(slots=True, eq=False)
class ShadowPool:
    """The shadow version of a model: where mirrored requests go, and how many may wait."""

    version: str
    urls: tuple[str, ...]
    share: float
    max_in_flight: int
    timeout_seconds: float
    in_flight: int = 0
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def next_url(self) -> str:
        return self.urls[next(self._turn) % len(self.urls)]


@dataclass(slots=True)
class Pick:
    version: VersionPool
    replica: Replica


@dataclass(slots=True, eq=False)
class ModelPool:
    """One model's versions and replicas, and how a request chooses among them."""

    model: str
    versions: list[VersionPool]
    strategy: Strategy = Strategy.LEAST_OUTSTANDING
    fallbacks: tuple[str, ...] = ()
    session_header: str = "x-session-id"
    prefix_tokens: int = 64
    shadow: ShadowPool | None = None
    teams: Mapping[str, str] = field(default_factory=dict)
    """Teams pinned to a version (their requests try it first)."""
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _rng: random.Random = field(default_factory=random.Random)

    @property
    def needs_session(self) -> bool:
        """Whether picks read a session key (a split to keep, or session affinity)."""
        return len(self.versions) > 1 or self.strategy is Strategy.SESSION

    @property
    def default_version(self) -> str:
        """The version named when no replica answered: the one with the largest share."""
        return max(self.versions, key=lambda v: v.weight).version

    @property
    def replicas(self) -> list[Replica]:
        return [r for v in self.versions for r in v.replicas]

    def draw(self, session: str | None) -> float:
        """A request's place in the version split: fixed for a ``session``, else random.
        Drawn once per request, so the cache looks an answer up under the version the
        request is then sent to."""
        return strategies.draw_for(session, self._rng)

    def _order(self, draw: float, team: str | None = None) -> list[int]:
        if len(self.versions) == 1:
            return [0]
        order = strategies.weighted_order([v.weight for v in self.versions], draw)
        pinned = self.teams.get(team) if team is not None else None
        if pinned is not None:
            first = next(i for i, v in enumerate(self.versions) if v.version == pinned)
            order = [first, *(i for i in order if i != first)]
        return order

    def rates_of(self, version: str | None) -> Rates | None:
        """The price of ``version``'s tokens (``None``: unpriced, or no such version)."""
        return next((v.rates for v in self.versions if v.version == version), None)

    def dearest(self) -> Rates | None:
        """The highest price of each kind over the versions (what a request may cost
        before the split or a retry picks one); ``None`` when none is priced."""
        priced = [v.rates for v in self.versions if v.rates is not None]
        return functools.reduce(Rates.most, priced) if priced else None

    def split_version(self, draw: float, team: str | None = None) -> str:
        """The version the split (or the team's pin) gives a request (whatever its
        replicas' state)."""
        return self.versions[self._order(draw, team)[0]].version

    def pick(
        self,
        *,
        draw: float | None = None,
        affinity: str | None = None,
        exclude: Collection[Replica] = (),
        now: float,
        team: str | None = None,
    ) -> Pick | None:
        """A version by the split (``draw``, from :meth:`draw`; a fresh one when not given),
        then a replica of it by the strategy (``affinity`` is the key the session and
        prefix strategies hash); versions with nothing available give way to the others.
        ``None`` when no replica is available at all."""
        for index in self._order(self.draw(None) if draw is None else draw, team):
            version = self.versions[index]
            candidates = [r for r in version.replicas if r not in exclude and r.available(now)]
            if candidates:
                return Pick(version, self._choose(candidates, affinity))
        return None

    def _choose(self, candidates: list[Replica], key: str | None) -> Replica:
        if self.strategy in (Strategy.SESSION, Strategy.PREFIX) and key is not None:
            return strategies.rendezvous(candidates, key)
        if self.strategy is Strategy.ROUND_ROBIN:
            return strategies.round_robin(candidates, next(self._turn))
        return strategies.least_outstanding(candidates, next(self._turn))


def pools_from(models: Sequence[ModelRoute], circuit: CircuitSettings) -> dict[str, ModelPool]:
    """The pools of the configured models, every replica with its own circuit breaker."""

    def replica(url: str) -> Replica:
        breaker = CircuitBreaker(
            failure_threshold=circuit.failure_threshold,
            open_seconds=circuit.open_seconds,
            max_open_seconds=circuit.max_open_seconds,
        )
        return Replica(url, breaker)

    return {
        m.name: ModelPool(
            model=m.name,
            versions=[
                VersionPool(
                    v.version,
                    v.weight,
                    [replica(u) for u in v.upstream_urls()],
                    rates=Rates.of(price) if (price := m.price_of(v)) is not None else None,
                )
                for v in m.version_routes()
            ],
            strategy=Strategy(m.strategy),
            fallbacks=tuple(m.fallbacks),
            session_header=m.session_header,
            prefix_tokens=m.prefix_tokens,
            shadow=_shadow(m.shadow),
            teams=dict(m.teams),
        )
        for m in models
    }


def _shadow(route: ShadowRoute | None) -> ShadowPool | None:
    if route is None or route.share <= 0:
        return None
    return ShadowPool(
        route.version,
        tuple(route.upstream_urls()),
        route.share,
        route.max_in_flight,
        route.timeout_seconds,
    )


def replica_states(
    pools: dict[str, ModelPool], now: float
) -> Iterator[tuple[str, str, int, bool, bool]]:
    """(model, url, requests in flight, circuit open, in rotation as the health checks
    say) of every replica, for metrics."""
    for pool in pools.values():
        for r in pool.replicas:
            circuit_open = r.breaker.state(now) is not CircuitState.CLOSED
            yield pool.model, r.url, r.outstanding, circuit_open, r.healthy
