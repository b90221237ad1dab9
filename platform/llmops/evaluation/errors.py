"""The evaluation's exception tree.

LlmopsError
+-- EvaluationError          a suite could not be run
    +-- SuiteError           the suite file or a dataset is invalid (a usage error)
    +-- JudgeError           the judge's endpoint refused or could not be reached
"""

from llmops.errors import LlmopsError


class EvaluationError(LlmopsError):
    """Base of the evaluation's errors."""


class SuiteError(EvaluationError):
    """The suite or one of its datasets is invalid; the message names every problem."""


class JudgeError(EvaluationError):
    """The judge's OpenAI-compatible endpoint failed."""
