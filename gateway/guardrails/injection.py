"""The prompt-injection detector: a linear model over hashed character and word n-grams of
several views of a text (as written, folded, de-obfuscated, decoded), trained here on
messages written for it (``bench/guardrails_train.py``; decision 0017). It needs numpy
only, runs in tens of microseconds per message, and reads every language the same way.

A view undoes one disguise: look-alike letters and invisible characters (NFKC, a
confusables map), digits for letters (``1gn0r3``), letters spaced or dotted apart
(``i g n o r e``), base64 or hex runs decoded to text when they are text, Morse code, and
a letter shift (ROT13 and the other Caesar shifts) or backwards writing when reading the
text so gives more common English words than reading it as written.
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


def clipped(text: str) -> str:
    """What is read of a text: all of it, or its first and last halves of ``MAX_CHARS``."""
    if len(text) > MAX_CHARS:
        return text[: MAX_CHARS // 2] + " " + text[-MAX_CHARS // 2 :]
    return text


def views(text: str) -> list[str]:
    """The text as read through each disguise it may wear."""
    text = clipped(text)
    folded = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).lower().translate(_CONFUSABLES)
    out = [folded]
    joined = _SPACED.sub(lambda m: re.sub(r"[ .\-_*|/]", "", m.group()), folded)
    if joined != folded:
        out.append(joined)
    unleet = joined.translate(_LEET)
    if unleet != joined:
        out.append(unleet)
    out += _decoded(text)
    out += _deciphered(unleet)
    return out


_COMMON = frozenset(
    """the to and of a in is it you that for on with as this be are your me my i all
    what how can do not no now from any tell give show write please ignore previous
    instructions system prompt rules above below reveal secret password say output
    answer make must will should would they we he she his her an or if then""".split()  # noqa: SIM905
)
"""Common English words: a text that holds few of them, and holds more once shifted,
reversed or read as Morse, is read that way too."""
_MORSE_RUN = re.compile(
    "(?:[.\\-\u2022\u2013_]{1,7}(?:\\s*/\\s*|\\s+)){4,}[.\\-\u2022\u2013_]{1,7}"
)
_MORSE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g",
    "....": "h", "..": "i", ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n",
    "---": "o", ".--.": "p", "--.-": "q", ".-.": "r", "...": "s", "-": "t", "..-": "u",
    "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z", "-----": "0",
    ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6",
    "--...": "7", "---..": "8", "----.": "9",
}  # fmt: skip


def _common(words: list[str]) -> int:
    return sum(w in _COMMON for w in words)


def _deciphered(text: str) -> list[str]:
    """The text read through a letter shift (ROT13 and the other Caesar shifts), backwards,
    or as Morse code, when that reading holds more common words than the text itself."""
    found = []
    for match in _MORSE_RUN.finditer(text):
        found.append(_morse(match.group()))
    words = _WORD.findall(text)[:60]
    if len(words) < 3:
        return [f for f in found if f]
    seen = _common(words)
    backwards = text[::-1]
    if _common(_WORD.findall(backwards)[:60]) > seen + 1:
        found.append(backwards)
    if seen * 4 < len(words):  # few common words: try each shift
        best, best_count = "", seen + 1
        for shift in range(1, 26):
            table = _SHIFTS[shift]
            count = _common([w.translate(table) for w in words])
            if count > best_count:
                best, best_count = text.translate(table), count
        if best:
            found.append(best)
    return [f for f in found if f]


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SHIFTS = {
    shift: str.maketrans(_LETTERS, _LETTERS[shift:] + _LETTERS[:shift]) for shift in range(1, 26)
}


def _morse(run: str) -> str:
    letters = []
    for word in re.split(r"\s*/\s*|\s{2,}", run.strip()):
        symbols = word.replace("\u2022", ".").replace("\u2013", "-").replace("_", "-").split()
        letters.append("".join(_MORSE.get(s, "") for s in symbols))
    decoded = " ".join(w for w in letters if w)
    return decoded if len(decoded) >= 4 else ""


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

    def logit(self, text: str) -> float:
        """The model's log-odds that ``text`` is an attempt."""
        index, values = features(text)
        return float(values @ self.weights[index]) + self.bias

    def score(self, text: str) -> float:
        return 1.0 / (1.0 + float(np.exp(-self.logit(text))))

    def scores(self, texts: Sequence[str]) -> list[float]:
        return [self.score(t) for t in texts]


def load(path: Path = WEIGHTS) -> InjectionDetector:
    with np.load(path) as data:
        return InjectionDetector(
            weights=data["weights"].astype(np.float32),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
        )
