"""The tensors of a continuously batched decode: one KV cache, left-padded, rows joining and leaving.

Rows are aligned on the right: every row's newest token sits in the last column of
the cache, and shorter rows are padded on the left with positions the attention
mask hides. A row joins after its prompt was prefilled on its own (no padding, so
no wasted compute): its cache is padded to the batch's length (or the batch's to
its) and stacked under the others. A row leaves by selection; columns that only
padding still uses are then cut away, so the cache never outgrows its longest row.
Each row's position ids count its real tokens, which keeps rotary embeddings right
whatever padding sits before it.

The batch's cache layers keep spare columns: a decode step writes its token's keys
and values in place instead of concatenating a new cache, which at 8 rows took a
third of each step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import DynamicCache, PreTrainedModel
from transformers.cache_utils import DynamicLayer


@dataclass
class Prefilled:
    """A prompt run through the model alone: its cache and its last position's logits."""

    cache: DynamicCache
    length: int
    logits: torch.Tensor
    """Shape ``[vocab]``."""


def prefill(model: PreTrainedModel, prompt_ids: Sequence[int]) -> Prefilled:
    """Run one prompt through ``model``; only the last position's logits are computed."""
    input_ids = torch.tensor([list(prompt_ids)], dtype=torch.long)
    cache = DynamicCache(config=model.config)
    out = model(input_ids=input_ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
    return Prefilled(cache=cache, length=len(prompt_ids), logits=out.logits[0, -1])


def _layers(cache: DynamicCache) -> list[DynamicLayer]:
    """The cache's layers, which the CPU engine checked are all plain dynamic layers."""
    layers = [layer for layer in cache.layers if isinstance(layer, DynamicLayer)]
    assert len(layers) == len(cache.layers)
    return layers


class GrowingLayer(DynamicLayer):  # type: ignore[no-untyped-call]  # transformers is untyped here
    """A full-attention cache layer that appends into spare capacity.

    ``keys`` and ``values`` are views of the first ``length`` columns of larger
    buffers; when the buffers are full they are reallocated at twice the size, so a
    step costs amortised O(1) copies instead of a copy of the whole cache.
    """

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, spare_columns: int) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._spare = spare_columns
        self.dtype, self.device = keys.dtype, keys.device
        self.is_initialized = True
        self._length = 0
        self._key_buffer = keys.new_empty(0)
        self._value_buffer = values.new_empty(0)
        self._store(keys, values)

    def _store(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        batch, heads, length, dim = keys.shape
        capacity = length + max(self._spare, length)
        self._key_buffer = keys.new_empty(batch, heads, capacity, dim)
        self._value_buffer = values.new_empty(batch, heads, capacity, dim)
        self._key_buffer[:, :, :length] = keys
        self._value_buffer[:, :, :length] = values
        self._set_length(length)

    def _set_length(self, length: int) -> None:
        self._length = length
        self.keys = self._key_buffer[:, :, :length]
        self.values = self._value_buffer[:, :, :length]

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: object, **kwargs: object
    ) -> tuple[torch.Tensor, torch.Tensor]:
        end = self._length + int(key_states.shape[-2])
        if end > self._key_buffer.shape[2]:
            assert self.keys is not None and self.values is not None
            self._store(self.keys, self.values)
        self._key_buffer[:, :, self._length : end] = key_states
        self._value_buffer[:, :, self._length : end] = value_states
        self._set_length(end)
        assert self.keys is not None and self.values is not None
        return self.keys, self.values

    def select(self, rows: torch.Tensor, first_column: int) -> None:
        """Keep only ``rows`` and the columns from ``first_column`` on."""
        assert self.keys is not None and self.values is not None
        self._store(self.keys[rows, :, first_column:], self.values[rows, :, first_column:])


def _left_pad(states: torch.Tensor | None, columns: int) -> torch.Tensor:
    assert states is not None
    if columns == 0:
        return states
    batch, heads, _, dim = states.shape
    return torch.cat([states.new_zeros(batch, heads, columns, dim), states], dim=2)


class KvBatch:
    """The KV cache and attention mask of the rows being decoded together."""

    def __init__(self, model: PreTrainedModel, spare_columns: int = 64) -> None:
        self._model = model
        self._spare = spare_columns
        """Columns the cache can grow by, at least, before its buffers are reallocated."""
        self._cache: DynamicCache | None = None
        self._mask = torch.zeros(0, 0, dtype=torch.long)

    @property
    def rows(self) -> int:
        return int(self._mask.shape[0])

    @property
    def columns(self) -> int:
        return int(self._mask.shape[1])

    def join(self, newcomers: Sequence[Prefilled]) -> None:
        """Stack prefilled rows under the current ones (in order)."""
        if not newcomers:
            return
        parts: list[tuple[DynamicCache, torch.Tensor]] = []
        if self._cache is not None:
            parts.append((self._cache, self._mask))
        parts.extend((p.cache, torch.ones(1, p.length, dtype=torch.long)) for p in newcomers)
        width = max(int(mask.shape[1]) for _, mask in parts)
        layers = []
        per_part = [_layers(cache) for cache, _ in parts]
        for index in range(len(per_part[0])):
            keys, values = [], []
            for part_layers, (_, mask) in zip(per_part, parts, strict=True):
                pad = width - int(mask.shape[1])
                keys.append(_left_pad(part_layers[index].keys, pad))
                values.append(_left_pad(part_layers[index].values, pad))
            layers.append((torch.cat(keys), torch.cat(values)))
        self._cache = DynamicCache(config=self._model.config)
        self._cache.layers = [GrowingLayer(keys, values, self._spare) for keys, values in layers]
        self._mask = torch.cat(
            [torch.nn.functional.pad(mask, (width - int(mask.shape[1]), 0)) for _, mask in parts]
        )

    def step(self, last_tokens: Sequence[int]) -> torch.Tensor:
        """Feed every row its last token; the logits of the next (shape ``[rows, vocab]``)."""
        assert self._cache is not None and len(last_tokens) == self.rows
        positions = self._mask.sum(dim=1, keepdim=True)
        self._mask = torch.cat([self._mask, torch.ones(self.rows, 1, dtype=torch.long)], dim=1)
        out = self._model(
            input_ids=torch.tensor(list(last_tokens), dtype=torch.long).unsqueeze(1),
            attention_mask=self._mask,
            position_ids=positions,
            past_key_values=self._cache,
            use_cache=True,
        )
        logits: torch.Tensor = out.logits[:, -1]
        return logits

    def keep(self, rows: Sequence[int]) -> None:
        """Keep only ``rows`` (indices, in order); the others leave the batch."""
        if len(rows) == self.rows:
            return
        if not rows or self._cache is None:
            self.clear()
            return
        index = torch.tensor(list(rows), dtype=torch.long)
        self._mask = self._mask[index]
        used = torch.nonzero(self._mask.sum(dim=0)).flatten()
        first = int(used[0]) if used.numel() else 0
        self._mask = self._mask[:, first:]
        for layer in self._cache.layers:
            assert isinstance(layer, GrowingLayer)
            layer.select(index, first)

    def clear(self) -> None:
        self._cache = None
        self._mask = torch.zeros(0, 0, dtype=torch.long)
