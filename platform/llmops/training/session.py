"""One worker's part of a fine-tune: load the base, add LoRA, train, save the adapter.

The same function runs in the ``llmops finetune run`` process and in each Ray Train
worker (:mod:`llmops.training.distributed`); only ``shard`` and ``wrap`` differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from llmops.serving import weights
from llmops.training import dpo
from llmops.training.checkpoints import Checkpoints
from llmops.training.dpo import PairExample
from llmops.training.encoding import Example
from llmops.training.loop import Shard, StepCallback, TrainResult, train
from llmops.training.recipe import LoraDpoConfig, LoraSftConfig, with_lora

ADAPTER_DIR = "adapter"
CHECKPOINT_DIR = "checkpoints"


@dataclass(frozen=True, slots=True)
class TrainingJob:
    """What a worker needs; plain values, so Ray can ship it to other machines."""

    base_dir: Path
    examples: tuple[Example, ...] | tuple[PairExample, ...]
    recipe: LoraSftConfig
    output: Path
    resume: bool
    pad_id: int
    threads: int | None = None


def run(
    job: TrainingJob,
    *,
    shard: Shard | None = None,
    on_step: StepCallback | None = None,
    wrap: Callable[[torch.nn.Module], torch.nn.Module] | None = None,
) -> TrainResult:
    """Train the job's adapter; the leader saves it in ``output/adapter``."""
    from peft import get_peft_model_state_dict, set_peft_model_state_dict  # noqa: PLC0415

    shard = shard or Shard()
    if job.threads:
        torch.set_num_threads(job.threads)
    model, _ = weights.load(job.base_dir, dtype="float32")
    peft_model = with_lora(model, job.recipe)
    trained: torch.nn.Module = wrap(peft_model) if wrap is not None else peft_model

    def adapter_state() -> dict[str, Any]:
        return dict(get_peft_model_state_dict(peft_model))

    def load_adapter_state(state: dict[str, Any]) -> None:
        set_peft_model_state_dict(peft_model, state)

    loss_of = None
    if isinstance(job.recipe, LoraDpoConfig):
        loss_of = dpo.loss_function(peft_model, pad_id=job.pad_id, beta=job.recipe.beta)
    result = train(
        trained,
        job.examples,
        job.recipe,
        pad_id=job.pad_id,
        checkpoints=Checkpoints(job.output / CHECKPOINT_DIR),
        adapter_state=adapter_state,
        load_adapter_state=load_adapter_state,
        on_step=on_step,
        shard=shard,
        resume=job.resume,
        loss_of=loss_of,
    )
    if shard.leader:
        peft_model.save_pretrained(str(job.output / ADAPTER_DIR))
    return result
