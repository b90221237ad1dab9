"""The batch's KV cache: rows that join, leave and outgrow its spare columns decode as alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from llmops.serving import weights
from llmops.serving.batching import KvBatch, prefill
from llmops.serving.settings import BundledSource

SPARE = 4
STEPS = 24  # with 4 spare columns the cache's buffers are reallocated on the way


@pytest.fixture(scope="module")
def model(model_cache: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    return weights.load(weights.model_dir(BundledSource("smollm2"), model_cache), dtype="float32")


def _prompt(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    chat = tokenizer.apply_chat_template(
        [{"role": "user", "content": text}], add_generation_prompt=True, tokenize=False
    )
    assert isinstance(chat, str)
    return list(tokenizer.encode(chat, add_special_tokens=False))


def _alone(model: PreTrainedModel, prompt: list[int], steps: int) -> list[int]:
    batch = KvBatch(model, spare_columns=SPARE)
    first = prefill(model, prompt)
    batch.join([first])
    tokens = [int(first.logits.argmax())]
    for _ in range(steps):
        tokens.append(int(batch.step([tokens[-1]])[0].argmax()))
    return tokens


@torch.inference_mode()
def test_rows_joining_and_leaving_decode_as_alone(
    model: tuple[PreTrainedModel, PreTrainedTokenizerBase],
) -> None:
    lm, tokenizer = model
    prompts = [
        _prompt(tokenizer, "Tell me a long story about a lighthouse keeper."),
        _prompt(tokenizer, "List some facts about the Moon."),
        _prompt(tokenizer, "Explain, step by step and at length, how bread is made at home."),
    ]
    expected = [_alone(lm, p, STEPS) for p in prompts]

    batch = KvBatch(lm, spare_columns=SPARE)
    firsts = [prefill(lm, p) for p in prompts[:2]]
    batch.join(firsts)
    produced = [[int(f.logits.argmax())] for f in firsts]
    live = [0, 1]
    for step in range(STEPS + 10):
        if step == 6:  # a third row joins a batch whose cache has grown
            third = prefill(lm, prompts[2])
            batch.join([third])
            produced.append([int(third.logits.argmax())])
            live.append(2)
        if step == 12:  # the shortest prompt's row leaves mid-way
            batch.keep([i for i, row in enumerate(live) if row != 1])
            live.remove(1)
        wanted = [row for row in live if len(produced[row]) <= STEPS]
        if wanted != live:
            batch.keep([live.index(row) for row in wanted])
            live = wanted
        if not live:
            break
        logits = batch.step([produced[row][-1] for row in live])
        for index, row in enumerate(live):
            produced[row].append(int(logits[index].argmax()))

    assert produced[0] == expected[0]
    assert produced[2] == expected[2]
    assert produced[1] == expected[1][: len(produced[1])]
