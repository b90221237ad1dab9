"""Figures the quality benchmarks share."""

from __future__ import annotations

from gateway.cache.bound import wilson_lower, wilson_upper

Z95 = 1.959964
"""Two-sided 95%."""


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion."""
    if n == 0:
        return 0.0, 1.0
    rate = successes / n
    return wilson_lower(rate, n, Z95), wilson_upper(rate, n, Z95)
