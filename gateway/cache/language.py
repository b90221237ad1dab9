"""Which language a question is in: the verifier judges only the languages it can read.

langid.py's model (bundled with ``py3langid``, no download) picks among the world's
widely written languages; any language outside ``lexicon.LANGUAGES`` is one the verifier
cannot judge, and so is a text too short or too mixed to tell. A guess limited to a few
dozen languages keeps a terse English query ("python list reverse") from being read as a
creole, while a Portuguese or Italian question stays Portuguese or Italian, and off the
semantic tier.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from gateway.cache.lexicon import LANGUAGES

CANDIDATES = [
    "en",
    "fr",
    "es",
    "de",
    "it",
    "pt",
    "nl",
    "ca",
    "gl",
    "eu",
    "pl",
    "cs",
    "sk",
    "sl",
    "hr",
    "sr",
    "ro",
    "hu",
    "fi",
    "et",
    "lv",
    "lt",
    "sv",
    "da",
    "no",
    "is",
    "ru",
    "uk",
    "bg",
    "el",
    "tr",
    "ar",
    "he",
    "fa",
    "hi",
    "bn",
    "ur",
    "id",
    "ms",
    "vi",
    "th",
    "zh",
    "ja",
    "ko",
    "sw",
    "af",
    "ga",
    "cy",
]
"""What a text may be read as: every widely written language, so that one outside
``LANGUAGES`` is recognised as such."""


@lru_cache(maxsize=1)
def _classifier() -> Any:
    """The model, loaded on first use (about 0.3 s)."""
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(CANDIDATES)
    return identifier


@lru_cache(maxsize=8192)
def detect(text: str) -> str | None:
    """The text's language if the verifier can judge it, else None."""
    if not any(c.isalpha() for c in text):
        return None
    code, _ = _classifier().classify(text)
    return str(code) if code in LANGUAGES else None
