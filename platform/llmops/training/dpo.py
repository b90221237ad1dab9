"""Direct preference optimization on a LoRA adapter (Rafailov et al., 2023).

The policy is the model with its adapter; the reference is the same model with the
adapter switched off, so no second copy of the weights is loaded. For a pair the
*implicit reward margin* is ``beta * ((log pi(chosen) - log ref(chosen)) - (log
pi(rejected) - log ref(rejected)))``, summed over the answers' tokens (prompts masked);
the loss is ``-log sigmoid(margin)``. A fresh adapter starts at margin 0 exactly (LoRA's
second matrix starts at zero); training moves the margin up on the pairs it learns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from llmops.training.encoding import IGNORE, Example, collate, encode
from llmops.training.preferences import PreferencePair

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True, slots=True)
class PairExample:
    """One pair as token ids: the same prompt, answered the chosen and the rejected way."""

    chosen: Example
    rejected: Example


@dataclass(frozen=True, slots=True)
class PreferenceFigures:
    reward_margin: float
    """Mean implicit reward margin on the pairs."""
    reward_accuracy: float
    """Share of pairs whose margin is above 0."""
    dpo_loss: float

    def metrics(self) -> dict[str, float]:
        return {
            "reward_margin": self.reward_margin,
            "reward_accuracy": self.reward_accuracy,
            "dpo_loss": self.dpo_loss,
        }


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase, pairs: Sequence[PreferencePair], max_seq_len: int
) -> list[PairExample]:
    """Each pair's two answers as examples (raises like :func:`encode` when a prompt fills
    the whole sequence)."""
    chosen = encode(tokenizer, [p.as_conversations[0] for p in pairs], max_seq_len)
    rejected = encode(tokenizer, [p.as_conversations[1] for p in pairs], max_seq_len)
    return [PairExample(c, r) for c, r in zip(chosen, rejected, strict=True)]


def sequence_logps(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The log-probability of each row's answer tokens, summed (prompt and padding masked)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"][:, 1:]
    mask = labels != IGNORE
    logps = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    picked = logps.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)


def _both(
    model: torch.nn.Module, pairs: Sequence[PairExample], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probabilities of the chosen and the rejected answers, in one forward pass."""
    batch = collate([p.chosen for p in pairs] + [p.rejected for p in pairs], pad_id)
    logps = sequence_logps(model, batch)
    return logps[: len(pairs)], logps[len(pairs) :]


def margins(
    policy: PeftModel, pairs: Sequence[PairExample], *, pad_id: int, beta: float
) -> torch.Tensor:
    """Each pair's implicit reward margin (with gradients through the policy)."""
    chosen, rejected = _both(policy, pairs, pad_id)
    with torch.no_grad(), policy.disable_adapter():
        ref_chosen, ref_rejected = _both(policy, pairs, pad_id)
    return beta * ((chosen - ref_chosen) - (rejected - ref_rejected))


def loss_function(
    policy: PeftModel, *, pad_id: int, beta: float
) -> Callable[[torch.nn.Module, Sequence[PairExample]], torch.Tensor]:
    """The training loop's loss for a batch of pairs."""

    def loss(_model: torch.nn.Module, pairs: Sequence[PairExample]) -> torch.Tensor:
        found = margins(policy, pairs, pad_id=pad_id, beta=beta)
        return -torch.nn.functional.logsigmoid(found).mean()

    return loss


@torch.inference_mode()
def figures(
    policy: PeftModel,
    pairs: Sequence[PairExample],
    *,
    pad_id: int,
    beta: float,
    batch_size: int,
) -> PreferenceFigures:
    """Margin, accuracy and loss of ``policy`` on held-out ``pairs``."""
    was_training = policy.training
    policy.eval()
    found: list[torch.Tensor] = []
    for i in range(0, len(pairs), batch_size):
        found.append(margins(policy, pairs[i : i + batch_size], pad_id=pad_id, beta=beta))
    if was_training:
        policy.train()
    every = torch.cat(found)
    return PreferenceFigures(
        reward_margin=float(every.mean()),
        reward_accuracy=float((every > 0).float().mean()),
        dpo_loss=float(-torch.nn.functional.logsigmoid(every).mean()),
    )
