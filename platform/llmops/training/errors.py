"""The training package's exception tree.

LlmopsError
+-- TrainingError          fine-tuning could not run or finish
    +-- DatasetError       a dataset file is missing or malformed (a usage error: exit 2)
    +-- CheckpointError    a checkpoint cannot be read or does not fit the run
"""

from llmops.errors import LlmopsError


class TrainingError(LlmopsError):
    """Base of the training errors."""


class DatasetError(TrainingError):
    """A dataset file is unreadable or holds invalid rows; the message names file and lines."""


class CheckpointError(TrainingError):
    """A checkpoint is unreadable or was written by a different run configuration."""
