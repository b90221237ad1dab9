"""Prices and costs in whole nano-units of the currency (10⁻⁹), so that sums are exact in
Redis, in SQL and in Python alike (a 64-bit count holds about 9 billion units)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from gateway.settings import Price
from gateway.usage import Usage

NANOS = 1_000_000_000
MAX_NANOS = 2**63 - 1
_PER_TOKEN = Decimal(NANOS) / Decimal(1_000_000)
"""Nano-units per token for a price of 1 per million tokens."""


@dataclass(frozen=True, slots=True)
class Rates:
    """A price in nano-units per token (fractions kept: cheap models cost less than one)."""

    input: Decimal
    cached_input: Decimal
    output: Decimal

    @classmethod
    def of(cls, price: Price) -> Rates:
        cached = price.cached_input if price.cached_input is not None else price.input
        return cls(
            input=price.input * _PER_TOKEN,
            cached_input=cached * _PER_TOKEN,
            output=price.output * _PER_TOKEN,
        )

    def cost(self, usage: Usage) -> int:
        """What ``usage`` cost, to the nearest nano-unit."""
        cached = min(usage.cached, usage.prompt)
        total = (
            (usage.prompt - cached) * self.input
            + cached * self.cached_input
            + usage.completion * self.output
        )
        return min(MAX_NANOS, int(total.to_integral_value(rounding=ROUND_HALF_UP)))

    def worst_case(self, prompt_tokens: int, completion_tokens: int) -> int:
        """The most a request could cost: every prompt token at the dearer of its two
        prices, every completion token used (rounded up)."""
        prompt = max(self.input, self.cached_input)
        total = prompt_tokens * prompt + completion_tokens * self.output
        return min(MAX_NANOS, math.ceil(total))

    def most(self, other: Rates) -> Rates:
        return Rates(
            input=max(self.input, other.input),
            cached_input=max(self.cached_input, other.cached_input),
            output=max(self.output, other.output),
        )


def to_nanos(amount: Decimal) -> int:
    return int((amount * NANOS).to_integral_value(rounding=ROUND_HALF_UP))


def from_nanos(nanos: int) -> Decimal:
    return Decimal(nanos) / NANOS


def text(nanos: int) -> str:
    """An amount as a plain decimal number (``0.000125``, ``12.5``, ``0``)."""
    value = from_nanos(nanos).normalize()
    return format(value, "f")
