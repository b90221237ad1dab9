"""Monitoring's exception tree.

MonitoringError (an LlmopsError)
+-- RequestLogUnavailable   the request log's database cannot be read
+-- RetrainFailed           a step of the retraining loop failed (fine-tune, promote,
                            routes); the message names the step and its output
"""

from llmops.errors import LlmopsError


class MonitoringError(LlmopsError):
    """Base of the errors drift monitoring raises."""


class RequestLogUnavailable(MonitoringError):
    """The request log's database cannot be read."""


class RetrainFailed(MonitoringError):
    """A step of the retraining loop failed."""
