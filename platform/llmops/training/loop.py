"""The recipes' training loop: deterministic batches, AdamW, checkpoints, progress.

The batch of step ``n`` depends only on the seed and ``n`` (each epoch is a seeded
permutation of the rows), so a run resumed from a checkpoint sees the batches an
uninterrupted run would have seen. Under Ray Train each worker computes the same
global batch and takes its own slice of it (``rank::world``); gradients are
averaged by DDP, so the recipe is the same on one CPU and on many GPUs.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm import tqdm

from llmops.training.checkpoints import Checkpoints
from llmops.training.encoding import collate
from llmops.training.errors import CheckpointError
from llmops.training.recipe import LoraSftConfig

StepCallback = Callable[[int, dict[str, float]], None]
"""Called after each step with the step number (from 1) and its metrics."""
LossFunction = Callable[[torch.nn.Module, Sequence[Any]], torch.Tensor]
"""A batch's loss: the recipe's (``lora-sft``: the answers' cross-entropy)."""


@dataclass(frozen=True, slots=True)
class Shard:
    """This worker's place among the workers sharing each batch."""

    rank: int = 0
    world: int = 1

    @property
    def leader(self) -> bool:
        return self.rank == 0


@dataclass(slots=True)
class TrainResult:
    steps: int
    resumed_from: int
    losses: list[float] = field(default_factory=list)


def batch_rows(rows: int, batch_size: int, seed: int, step: int) -> list[int]:
    """The rows of step ``step`` (from 0): a seeded permutation per epoch, cut in batches."""
    per_epoch = math.ceil(rows / batch_size)
    epoch, index = divmod(step, per_epoch)
    order = list(range(rows))
    random.Random(f"{seed}:{epoch}").shuffle(order)  # noqa: S311 - an order, not a secret
    return order[index * batch_size : (index + 1) * batch_size]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def _schedule(config: LoraSftConfig, total: int) -> Callable[[int], float]:
    """Linear warmup, then linear decay to a tenth of the learning rate."""

    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / (config.warmup_steps + 1)
        span = max(1, total - config.warmup_steps)
        return 1.0 - 0.9 * min(1.0, (step - config.warmup_steps) / span)

    return factor


def supervised_loss(pad_id: int) -> LossFunction:
    def loss(model: torch.nn.Module, batch: Sequence[Any]) -> torch.Tensor:
        found: torch.Tensor = model(**collate(batch, pad_id)).loss
        return found

    return loss


def train(
    model: torch.nn.Module,
    examples: Sequence[Any],
    config: LoraSftConfig,
    *,
    pad_id: int,
    checkpoints: Checkpoints,
    adapter_state: Callable[[], dict[str, Any]],
    load_adapter_state: Callable[[dict[str, Any]], None],
    on_step: StepCallback | None = None,
    shard: Shard | None = None,
    resume: bool = False,
    loss_of: LossFunction | None = None,
) -> TrainResult:
    """Train ``model``'s trainable parameters for the recipe's steps, resuming if asked;
    ``examples`` are what ``loss_of`` takes (default: supervised examples)."""
    shard = shard or Shard()
    loss_of = loss_of or supervised_loss(pad_id)
    seed_everything(config.seed)
    total = config.total_steps(len(examples))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(config, total))
    start = 0
    if resume and (found := checkpoints.latest()) is not None:
        if found.state.get("config") != config.model_dump(mode="json"):
            raise CheckpointError(
                f"the checkpoints in {checkpoints.directory} were written with other "
                "hyperparameters; resume with the same options or start without --resume"
            )
        load_adapter_state(found.state["adapter"])
        optimizer.load_state_dict(found.state["optimizer"])
        scheduler.load_state_dict(found.state["scheduler"])
        torch.set_rng_state(found.state["rng"])
        start = found.step
    result = TrainResult(steps=total, resumed_from=start)
    model.train()
    bar = tqdm(
        total=total,
        initial=start,
        desc="fine-tuning",
        unit="step",
        file=sys.stderr,
        disable=not shard.leader,
        dynamic_ncols=True,
    )
    with bar:
        for step in range(start, total):
            rows = batch_rows(len(examples), config.batch_size, config.seed, step)
            mine = [examples[i] for i in rows[shard.rank :: shard.world]] or [examples[rows[0]]]
            loss = loss_of(model, mine)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            value = float(loss.detach())
            result.losses.append(value)
            bar.set_postfix(loss=f"{value:.4f}")
            bar.update(1)
            done = step + 1
            if on_step is not None and shard.leader:
                on_step(done, {"loss": value, "learning_rate": float(scheduler.get_last_lr()[0])})
            if shard.leader and (done % config.checkpoint_every == 0 or done == total):
                checkpoints.save(
                    done,
                    {
                        "adapter": adapter_state(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "rng": torch.get_rng_state(),
                        "config": config.model_dump(mode="json"),
                    },
                )
    model.eval()
    return result
