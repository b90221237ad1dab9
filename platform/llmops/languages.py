"""Which language a text is written in: langid.py's model, bundled with ``py3langid``
(no download, about 0.3 s to load, tens of microseconds a text).

The guess is limited to the world's widely written languages, so that a terse English
query ("python list reverse") is not read as a creole while a Portuguese or Italian one
stays Portuguese or Italian. The response cache judges only the languages it can read;
the drift check compares the mix of languages between two windows.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier

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
"""What a text may be read as."""

UNDETERMINED = "und"
"""A text without letters (code, numbers, emoji): no language (ISO 639-2's code)."""


@lru_cache(maxsize=1)
def _classifier() -> Any:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(CANDIDATES)
    return identifier


def identify(text: str) -> str:
    """The text's language (an ISO 639-1 code from ``CANDIDATES``), or ``"und"``."""
    if not any(c.isalpha() for c in text):
        return UNDETERMINED
    code, _ = _classifier().classify(text)
    return str(code)
