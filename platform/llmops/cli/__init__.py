"""The ``llmops`` command: the composition root that wires settings to every part."""
