"""The core package's exception tree.

LlmopsError
+-- ConfigError        a settings file or override is missing or invalid
+-- StartFailed        a process of the local stack exited or was not ready in time
                       (in :mod:`llmops.local.processes`)
"""


class LlmopsError(Exception):
    """Base of every error the core package raises on purpose."""


class ConfigError(LlmopsError):
    """A settings file or an environment override is missing or invalid."""
