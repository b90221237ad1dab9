"""A passive circuit breaker per replica: stop sending to a replica that keeps failing.

``closed``: requests flow; ``failure_threshold`` failures in a row open it.
``open``: no requests until ``open_seconds`` have passed, then ``half_open``.
``half_open``: one request (the probe) at a time; its success closes the circuit,
its failure opens it again for twice as long (up to ``max_open_seconds``).
The clock is an argument, so every transition is tested without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(slots=True)
class CircuitBreaker:
    failure_threshold: int = 5
    open_seconds: float = 5.0
    max_open_seconds: float = 60.0
    failures: int = 0
    opened_at: float | None = None
    open_for: float = 0.0
    probing: bool = False

    def state(self, now: float) -> CircuitState:
        if self.opened_at is None:
            return CircuitState.CLOSED
        if now - self.opened_at < self.open_for:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    def available(self, now: float) -> bool:
        """Whether a request may be sent now (in half-open: if no probe is out)."""
        state = self.state(now)
        return state is CircuitState.CLOSED or (
            state is CircuitState.HALF_OPEN and not self.probing
        )

    def sent(self, now: float) -> None:
        """A request was sent: in half-open it is the probe."""
        if self.state(now) is CircuitState.HALF_OPEN:
            self.probing = True

    def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.open_for = 0.0
        self.probing = False

    def failed(self, now: float) -> None:
        if self.opened_at is not None:  # the probe failed: open again, for longer
            self.open_for = min(self.open_for * 2, self.max_open_seconds)
            self.opened_at = now
            self.probing = False
            return
        self.failures += 1
        if self.failures >= self.failure_threshold:
            self.opened_at = now
            self.open_for = self.open_seconds

    def released(self) -> None:
        """A request ended with neither verdict (its client left): the probe slot frees."""
        self.probing = False
