"""Choosing each row's next token from its logits, with that row's own parameters.

Every request carries its own ``torch.Generator``, so a seeded request draws the
same numbers whatever else shares its batch. Greedy rows (temperature 0) take the
arg-max in one call for the whole batch.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import torch


class TokenSampler:
    """One request's sampling: temperature, nucleus (top-p) and a private random stream."""

    def __init__(self, *, temperature: float, top_p: float, seed: int | None) -> None:
        self.temperature = temperature
        self.top_p = top_p
        self._generator: torch.Generator | None = None
        if temperature > 0:
            self._generator = torch.Generator()
            self._generator.manual_seed(seed if seed is not None else secrets.randbits(63))

    @property
    def greedy(self) -> bool:
        return self._generator is None

    def draw(self, logits: torch.Tensor) -> int:
        """A token id drawn from one row of logits (shape ``[vocab]``)."""
        assert self._generator is not None
        scaled = logits.float() / self.temperature
        probs = torch.softmax(scaled, dim=-1)
        if self.top_p < 1:
            probs = nucleus(probs, self.top_p)
        return int(torch.multinomial(probs, 1, generator=self._generator).item())


def nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """``probs`` with everything outside the smallest set holding ``top_p`` of the mass zeroed."""
    ordered, order = torch.sort(probs, descending=True)
    before = torch.cumsum(ordered, dim=-1) - ordered  # mass of the tokens ranked above each
    ordered[before >= top_p] = 0  # the top token always stays: nothing ranks above it
    kept = torch.zeros_like(probs).scatter_(-1, order, ordered)
    return kept / kept.sum()


def next_tokens(logits: torch.Tensor, samplers: Sequence[TokenSampler]) -> list[int]:
    """The next token of every row of ``logits`` (shape ``[rows, vocab]``)."""
    chosen = torch.argmax(logits, dim=-1).tolist()
    for row, sampler in enumerate(samplers):
        if not sampler.greedy:
            chosen[row] = sampler.draw(logits[row])
    return [int(t) for t in chosen]
