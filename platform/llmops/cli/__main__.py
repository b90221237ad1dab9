"""``python -m llmops.cli``: the same as the ``llmops`` command."""

from llmops.cli.main import main

main()
