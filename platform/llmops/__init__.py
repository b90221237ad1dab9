"""llmops: the core package of the platform (serving, training, registry, monitoring, CLI)."""

__version__ = "0.1.0"
