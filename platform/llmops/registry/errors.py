"""The registry's exception tree.

LlmopsError
+-- RegistryError            the MLflow registry refused or could not be reached
    +-- RegistryUnavailable  no tracking URI was given, or the server does not answer
    +-- VersionNotFound      no such registered model, version or alias
    +-- GateSyntaxError      a gate expression cannot be parsed (a usage error)
    +-- MissingMetric        a gate names a metric the candidate or champion lacks
    +-- NothingToRollBack    the champion has no earlier champion to return to
"""

from llmops.errors import LlmopsError


class RegistryError(LlmopsError):
    """Base of the registry's errors."""


class RegistryUnavailable(RegistryError):
    """No tracking URI, or the MLflow server cannot be reached."""


class VersionNotFound(RegistryError):
    """The registered model, version or alias does not exist."""


class GateSyntaxError(RegistryError):
    """A gate expression cannot be parsed."""


class MissingMetric(RegistryError):
    """A gate names a metric that a version does not carry."""


class NothingToRollBack(RegistryError):
    """There is no earlier champion to return to."""
