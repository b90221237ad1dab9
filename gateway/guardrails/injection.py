"""The prompt-injection detector: a linear model over hashed character and word n-grams of
several views of a text (as written, folded, de-obfuscated, decoded), trained here on
messages written for it (``bench/guardrails_train.py``; decision 0017). It needs numpy
only, runs in tens of microseconds per message, and reads every language the same way.

A view undoes one disguise: look-alike letters and invisible characters (NFKC, a
confusables map), digits for letters (``1gn0r3``), letters spaced or dotted apart
(``i g n o r e``), and base64 or hex runs decoded to text when they are text.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

WEIGHTS = Path(__file__).parent / "data" / "injection.npz"
BITS = 18
DIMENSIONS = 1 << BITS
CHAR_NGRAMS = (3, 4, 5)
MAX_CHARS = 8000
"""Longer texts are read by their first and last halves of this."""

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Letters of other scripts that look like Latin ones (Cyrillic, Greek, Armenian).
_CONFUSABLES = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u0261\u0578\u03bd\u03bf\u03b1\u03b9\u03ba\u03c4\u03b5\u03c1",
    "aeopcyxijsdgnvoaiktep",
)
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
_SPACED = re.compile(r"(?<!\w)(?:\w[ .\-_*|/]){3,}\w(?!\w)")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}[ :]?){8,}")
_WORD = re.compile(r"\w+")


def views(text: str) -> list[str]:
    """The text as read through each disguise it may wear."""
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS // 2] + " " + text[-MAX_CHARS // 2 :]
    folded = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).lower().translate(_CONFUSABLES)
    out = [folded]
    joined = _SPACED.sub(lambda m: re.sub(r"[ .\-_*|/]", "", m.group()), folded)
    if joined != folded:
        out.append(joined)
    unleet = joined.translate(_LEET)
    if unleet != joined:
        out.append(unleet)
    out += _decoded(text)
    return out


def _decoded(text: str) -> list[str]:
    found = []
    for match in _BASE64.finditer(text):
        found.append(_printable(_b64(match.group())))
    for match in _HEX.finditer(text):
        try:
            found.append(_printable(bytes.fromhex(re.sub("[ :]", "", match.group()))))
        except ValueError:
            continue
    return [f.lower() for f in found if f]


def _b64(run: str) -> bytes:
    try:
        return base64.b64decode(run + "=" * (-len(run) % 4), validate=False)
    except (binascii.Error, ValueError):
        return b""


def _printable(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    letters = sum(c.isalpha() or c.isspace() for c in text)
    return text if len(text) >= 8 and letters >= 0.8 * len(text) else ""


_PRIME = np.uint64(1_000_003)
_SALTS = {
    n: np.uint64(0x9E3779B97F4A7C15 * (n + 1) & 0xFFFFFFFFFFFFFFFF) for n in (1, 2, 3, 4, 5, 6)
}


def _ngram_hashes(codes: npt.NDArray[np.uint64], n: int) -> npt.NDArray[np.uint64]:
    """A hash of each ``n`` consecutive codes (wrapping 64-bit arithmetic)."""
    if len(codes) < n:
        return np.empty(0, dtype=np.uint64)
    h = np.zeros(len(codes) - n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * _PRIME + codes[k : len(codes) - n + 1 + k]
        return (h ^ _SALTS[n]) * np.uint64(0xBF58476D1CE4E5B9)


def features(text: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The text's hashed feature indices and weights (log counts, unit length)."""
    parts = []
    for view in views(text):
        codes = np.frombuffer(f" {view} ".encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        for n in CHAR_NGRAMS:
            parts.append(_ngram_hashes(codes, n))
        words = [hash_word(w) for w in _WORD.findall(view)]
        if words:
            ids = np.array(words, dtype=np.uint64)
            parts.append(ids)
            if len(ids) > 1:
                with np.errstate(over="ignore"):
                    parts.append((ids[:-1] * _PRIME + ids[1:]) ^ _SALTS[6])
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    hashed = np.concatenate(parts)
    index = (hashed >> np.uint64(64 - BITS)).astype(np.int64)
    unique, counts = np.unique(index, return_counts=True)
    values = (1.0 + np.log(counts)).astype(np.float32)
    values /= np.linalg.norm(values)
    return unique, values


def hash_word(word: str) -> int:
    h = 1469598103934665603
    for byte in word.encode():
        h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


@dataclass
class InjectionDetector:
    weights: npt.NDArray[np.float32]
    bias: float
    threshold: float
    """The score from which a text is an attempt, chosen on the tuning half of the labeled
    set for precision (see decision 0017)."""

    def score(self, text: str) -> float:
        index, values = features(text)
        z = float(values @ self.weights[index]) + self.bias
        return 1.0 / (1.0 + float(np.exp(-z)))

    def scores(self, texts: Sequence[str]) -> list[float]:
        return [self.score(t) for t in texts]


def load(path: Path = WEIGHTS) -> InjectionDetector:
    with np.load(path) as data:
        return InjectionDetector(
            weights=data["weights"].astype(np.float32),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
        )
