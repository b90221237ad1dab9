"""The recipes' hyperparameters (``lora-sft``, ``dpo``) and how they shape the model."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedModel

RECIPE = "lora-sft"
DPO = "dpo"
RECIPES = (RECIPE, DPO)


class LoraSftConfig(BaseModel):
    """Everything that decides what a run learns (logged as the run's params)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def name(self) -> str:
        return RECIPE

    learning_rate: Annotated[float, Field(gt=0)] = 2e-4
    batch_size: Annotated[int, Field(ge=1)] = 4
    max_seq_len: Annotated[int, Field(ge=8)] = 512
    epochs: Annotated[float, Field(gt=0)] = 1.0
    max_steps: Annotated[int, Field(ge=1)] | None = None
    """Overrides ``epochs`` when given."""
    lora_r: Annotated[int, Field(ge=1)] = 8
    lora_alpha: Annotated[int, Field(ge=1)] | None = None
    """Default: twice ``lora_r``."""
    lora_dropout: Annotated[float, Field(ge=0, lt=1)] = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    warmup_steps: Annotated[int, Field(ge=0)] = 0
    seed: int = 42
    checkpoint_every: Annotated[int, Field(ge=1)] = 10
    """Steps between checkpoints (a crash loses at most this many)."""

    def total_steps(self, rows: int) -> int:
        if self.max_steps is not None:
            return self.max_steps
        return max(1, math.ceil(self.epochs * math.ceil(rows / self.batch_size)))

    def params(self) -> dict[str, str]:
        """The run's params, as MLflow records them."""
        values = self.model_dump()
        values["target_modules"] = ",".join(self.target_modules)
        values["lora_alpha"] = self.lora_alpha or 2 * self.lora_r
        return {"recipe": self.name, **{k: str(v) for k, v in values.items()}}


class LoraDpoConfig(LoraSftConfig):
    """``dpo``: preference pairs, a LoRA adapter, the adapter-less model as reference."""

    beta: Annotated[float, Field(gt=0)] = 0.1
    """How far from the reference the policy may move: higher keeps it closer."""

    @property
    def name(self) -> str:
        return DPO


def with_lora(model: PreTrainedModel, config: LoraSftConfig) -> PeftModel:
    """``model`` frozen, with fresh LoRA matrices on the target modules."""
    from peft import LoraConfig, get_peft_model  # noqa: PLC0415 - peft loads torch

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha or 2 * config.lora_r,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        task_type="CAUSAL_LM",
    )
    peft_model: PeftModel = get_peft_model(model, lora)
    return peft_model
