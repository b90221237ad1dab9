"""The local stack of ``llmops up``: the platform's processes on one machine."""
