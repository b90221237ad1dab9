"""Whether a cached answer would have been right: compared with the replica's fresh one.

Two answers agree when their texts are equal (case and spacing aside), or when they hold
the same numbers in the same order ("multiply by 9/5, add 32" is not "subtract 32,
multiply by 5/9"), as many negations (in each language the verifier reads), and their
embeddings are at least ``answer_agreement`` similar (0.95 by default). A model asked the same thing twice
at temperature 0 answers alike; asked another thing, its answer holds other numbers or
other words. The check errs towards disagreement: a rewording the model answers in other
words counts as a wrong hit, which only makes the bound stricter. An answer with no text
(tool calls only) is not compared.
"""

from __future__ import annotations

import re

import numpy as np
import orjson

from gateway import sse
from gateway.cache.embedding import Embedder
from gateway.cache.languages import LEXICONS
from gateway.cache.lexicon import WORD, fold
from gateway.requestlog import completion_text

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE = re.compile(r"\s+")


def answer_text(response: bytes, *, stream: bool) -> str | None:
    """The first choice's text of a stored answer (a JSON body or a recorded stream)."""
    if not stream:
        try:
            text = completion_text(orjson.loads(response))
        except orjson.JSONDecodeError:
            return None
    else:
        parts = []
        for event in sse.EventSplitter().feed(response):
            chunk = sse.chunk_of(event)
            if chunk is not None:
                parts.append(sse.content_text(chunk))
        text = "".join(parts)
    return text if text and text.strip() else None


_NEGATIONS = frozenset().union(*(lex.negations for lex in LEXICONS.values())) | {"ne", "n't"}


def _negations(text: str) -> int:
    folded = fold(text)
    return sum(w in _NEGATIONS for w in WORD.findall(folded)) + folded.count("n't")


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


async def agree(cached: str, fresh: str, embedder: Embedder | None, threshold: float) -> bool:
    a, b = _normal(cached), _normal(fresh)
    if a == b:
        return True
    if _NUMBER.findall(a) != _NUMBER.findall(b) or embedder is None:
        return False
    if _negations(a) != _negations(b):
        return False
    va, vb = await embedder.embed(cached), await embedder.embed(fresh)
    return float(np.dot(va, vb)) >= threshold
