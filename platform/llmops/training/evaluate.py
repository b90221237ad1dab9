"""Evaluation on held-out conversations: loss, perplexity and how often answers match.

``eval_loss`` is the mean cross-entropy over the answers' tokens (prompts and
padding excluded), ``perplexity`` its exponential. ``match`` is the share of
conversations whose greedy completion contains the expected answer, compared
case-insensitively with punctuation and runs of whitespace ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

from llmops.training.dataset import Conversation
from llmops.training.encoding import IGNORE, Example, collate, pad_id, prompt_ids

_NOT_WORD = re.compile(r"[^\w]+")
MATCH_EXTRA_TOKENS = 16
"""Tokens generated beyond the expected answer's length, room for a preamble."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    eval_loss: float
    perplexity: float
    match: float
    answers: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        return {"eval_loss": self.eval_loss, "perplexity": self.perplexity, "match": self.match}


def normalized(text: str) -> str:
    return _NOT_WORD.sub(" ", text.lower()).strip()


def matches(answer: str, expected: str) -> bool:
    want = normalized(expected)
    return bool(want) and f" {want} " in f" {normalized(answer)} "


@torch.inference_mode()
def held_out_loss(
    model: torch.nn.Module, examples: Sequence[Example], *, pad_id: int, batch_size: int
) -> float:
    """Token-weighted mean loss over the answers of ``examples``."""
    total, tokens = 0.0, 0
    for i in range(0, len(examples), batch_size):
        batch = collate(examples[i : i + batch_size], pad_id)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        labels = batch["labels"][:, 1:]
        losses = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
            labels.reshape(-1),
            ignore_index=IGNORE,
            reduction="sum",
        )
        total += float(losses)
        tokens += int((labels != IGNORE).sum())
    return total / max(1, tokens)


@torch.inference_mode()
def generate_batch(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Sequence[dict[str, str]]],
    *,
    max_new_tokens: int,
    pad: int,
    temperature: float = 0.0,
) -> list[str]:
    """The model's answers to one batch of chat prompts, left-padded with ``pad``: greedy,
    or sampled at ``temperature`` (seed torch's generator first for a repeatable draw)."""
    encoded = [prompt_ids(tokenizer, p) for p in prompts]
    width = max(len(p) for p in encoded)
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in encoded])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in encoded])
    sampling = {"do_sample": True, "temperature": temperature, "top_p": 1.0, "top_k": 0}
    out = model.generate(  # type: ignore[operator]
        input_ids=ids,
        attention_mask=mask,
        max_new_tokens=max_new_tokens,
        pad_token_id=pad,
        **(sampling if temperature > 0 else {"do_sample": False}),
    )
    return [str(tokenizer.decode(row[width:], skip_special_tokens=True)).strip() for row in out]


def generate_answers(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    rows: Sequence[Conversation],
    *,
    batch_size: int = 8,
    pad: int | None = None,
) -> list[str]:
    """The model's greedy answer to each row's prompt (left-padded batches with ``pad``,
    by default the tokenizer's), each as long as its expected answer and some room."""
    pad = pad_id(tokenizer) if pad is None else pad
    answers: list[str] = []
    for i in range(0, len(rows), batch_size):
        chunk = rows[i : i + batch_size]
        longest = max(len(tokenizer(r.answer)["input_ids"]) for r in chunk) + MATCH_EXTRA_TOKENS
        answers.extend(
            generate_batch(
                model, tokenizer, [r.prompt for r in chunk], max_new_tokens=longest, pad=pad
            )
        )
    return answers


def evaluate(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    rows: Sequence[Conversation],
    examples: Sequence[Example],
    *,
    batch_size: int,
) -> Evaluation:
    """Loss, perplexity and match of ``model`` on the held-out ``rows`` (encoded as ``examples``)."""
    was_training = model.training
    model.eval()
    pad = pad_id(tokenizer)
    loss = held_out_loss(model, examples, pad_id=pad, batch_size=batch_size)
    answers = generate_answers(model, tokenizer, rows, pad=pad)
    hits = sum(matches(a, r.answer) for a, r in zip(answers, rows, strict=True))
    if was_training:
        model.train()
    return Evaluation(loss, math.exp(min(loss, 50.0)), hits / len(rows), tuple(answers))
