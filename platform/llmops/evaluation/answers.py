"""Answers from a model reference: the version's weights loaded here, on the CPU.

Both models of a comparison answer the same prompts with the same decoding, so what
differs between their answers is the models. A reference is anything
:func:`llmops.registry.materialize.resolve` takes: ``models:/NAME@ALIAS``,
``models:/NAME/N``, ``bundled:smollm2`` or a directory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from llmops.evaluation.suite import Example, Generation

Progress = Callable[[int], None]
"""Called with the number of answers just produced."""


def answer(
    model_dir: Path,
    examples: Sequence[Example],
    generation: Generation,
    *,
    threads: int | None = None,
    progress: Progress | None = None,
) -> list[str]:
    """Each example's answer from the model in ``model_dir``."""
    import torch  # noqa: PLC0415 - heavy: only when a model answers

    from llmops.serving import weights  # noqa: PLC0415
    from llmops.training.encoding import pad_id  # noqa: PLC0415
    from llmops.training.evaluate import generate_batch  # noqa: PLC0415

    if threads:
        torch.set_num_threads(threads)
    model, tokenizer = weights.load(model_dir, dtype="float32")
    pad = pad_id(tokenizer)
    torch.manual_seed(generation.seed)
    answers: list[str] = []
    size = generation.batch_size
    for i in range(0, len(examples), size):
        chunk = examples[i : i + size]
        answers.extend(
            generate_batch(
                model,
                tokenizer,
                [e.messages for e in chunk],
                max_new_tokens=generation.max_tokens,
                pad=pad,
                temperature=generation.temperature,
            )
        )
        if progress is not None:
            progress(len(chunk))
    del model
    return answers
