"""The serving tests' shared models: SmolLM2's engine and replica come from the root
conftest (the evaluation tests use them too); embedding replicas serve the bundled
MiniLM, which needs no conversion.
"""

from __future__ import annotations

import pytest

from llmops.serving.settings import ServingSettings


@pytest.fixture(scope="session")
def embedding_settings() -> ServingSettings:
    """An embedding replica of the bundled MiniLM, with small batches (so requests share them)."""
    return ServingSettings.model_validate(
        {
            "task": "embed",
            "model": "all-MiniLM-L6-v2",
            "source": "bundled:minilm",
            "embedding": {"batch_size": 16},
        }
    )
