"""Checkpoints of a run: the adapter's weights, the optimizer, the schedule and the RNG.

Each checkpoint is one file, ``step-NNNNNN.pt``, written beside its final name and
renamed into place, so a crash mid-write leaves the previous checkpoint whole. The
newest :attr:`Checkpoints.keep` are kept. A checkpoint carries the run's
configuration: resuming with different hyperparameters is refused.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from llmops.training.errors import CheckpointError

_NAME = re.compile(r"^step-(\d{6,})\.pt$")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    step: int
    state: dict[str, Any]


class Checkpoints:
    """The checkpoints in one directory."""

    def __init__(self, directory: Path, *, keep: int = 2) -> None:
        self.directory = directory
        self.keep = keep

    def _steps(self) -> list[int]:
        if not self.directory.is_dir():
            return []
        found = (_NAME.match(p.name) for p in self.directory.iterdir())
        return sorted(int(m[1]) for m in found if m)

    def _path(self, step: int) -> Path:
        return self.directory / f"step-{step:06d}.pt"

    def save(self, step: int, state: dict[str, Any]) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self._path(step)
        scratch = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        torch.save({"step": step, **state}, scratch)
        os.replace(scratch, final)
        for old in self._steps()[: -self.keep]:
            self._path(old).unlink(missing_ok=True)
        return final

    def latest(self) -> Checkpoint | None:
        steps = self._steps()
        if not steps:
            return None
        path = self._path(steps[-1])
        try:
            state = torch.load(path, weights_only=False, map_location="cpu")
        except (OSError, RuntimeError, EOFError) as e:
            raise CheckpointError(f"cannot read checkpoint {path}: {e}") from e
        return Checkpoint(int(state.pop("step")), state)

    def clear(self) -> int:
        """Remove every checkpoint; how many there were."""
        steps = self._steps()
        for step in steps:
            self._path(step).unlink(missing_ok=True)
        return len(steps)
