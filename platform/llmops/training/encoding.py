"""Conversations as token ids, with the loss on the answer only, and batches of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmops.training.dataset import Conversation
from llmops.training.errors import DatasetError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

IGNORE = -100
"""The label that takes a token out of the loss (the prompt's tokens, padding)."""


@dataclass(frozen=True, slots=True)
class Example:
    input_ids: list[int]
    labels: list[int]


def pad_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The id that pads batches: the tokenizer's pad token, else its end of sequence."""
    pad = tokenizer.pad_token_id
    return int(pad if pad is not None else tokenizer.eos_token_id)


def prompt_ids(tokenizer: PreTrainedTokenizerBase, prompt: Sequence[dict[str, str]]) -> list[int]:
    """The chat template's rendering of ``prompt``, ready for the assistant's answer."""
    text = tokenizer.apply_chat_template(list(prompt), add_generation_prompt=True, tokenize=False)
    ids: list[int] = tokenizer(str(text), add_special_tokens=False)["input_ids"]
    return ids


def encode(
    tokenizer: PreTrainedTokenizerBase, rows: Sequence[Conversation], max_seq_len: int
) -> list[Example]:
    """Each row as ids and labels; raises :class:`DatasetError` if a prompt leaves no room."""
    examples = []
    too_long = []
    for row in rows:
        text = tokenizer.apply_chat_template(row.messages, tokenize=False)
        ids: list[int] = tokenizer(str(text), add_special_tokens=False)["input_ids"]
        start = len(prompt_ids(tokenizer, row.prompt))
        ids = ids[:max_seq_len]
        if start >= len(ids):
            too_long.append(row.source)
            continue
        examples.append(Example(ids, [IGNORE] * start + ids[start:]))
    if too_long:
        raise DatasetError(
            f"the prompt fills the whole --max-seq-len {max_seq_len} in "
            f"{len(too_long)} rows, so there is no answer to learn: {', '.join(too_long[:10])}"
        )
    return examples


def collate(batch: Sequence[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors: ``input_ids``, ``attention_mask`` and ``labels``."""
    import torch  # noqa: PLC0415 - keeps dataset checks free of torch

    width = max(len(e.input_ids) for e in batch)
    ids = [e.input_ids + [pad_id] * (width - len(e.input_ids)) for e in batch]
    mask = [[1] * len(e.input_ids) + [0] * (width - len(e.input_ids)) for e in batch]
    labels = [e.labels + [IGNORE] * (width - len(e.labels)) for e in batch]
    return {
        "input_ids": torch.tensor(ids),
        "attention_mask": torch.tensor(mask),
        "labels": torch.tensor(labels),
    }
