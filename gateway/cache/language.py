"""Which language a question is in: the verifier judges only the languages it can read.

``llmops.languages`` picks among the world's widely written languages; any language
outside ``lexicon.LANGUAGES`` is one the verifier cannot judge, and so is a text without
letters: such a question stays off the semantic tier.
"""

from __future__ import annotations

from functools import lru_cache

from gateway.cache.lexicon import LANGUAGES
from llmops import languages


@lru_cache(maxsize=8192)
def detect(text: str) -> str | None:
    """The text's language if the verifier can judge it, else None."""
    code = languages.identify(text)
    return code if code in LANGUAGES else None
