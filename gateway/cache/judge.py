"""A second opinion on near-matches the verifier's rules refuse for other words or order.

The rules (``verifier``) serve a near-match only when every word of one question pairs
with a word of the other. A question reworded with other content words ("Who wrote
Hamlet?" / "Who is the author of Hamlet?") is refused by them; so is a clause moved
around words they cannot pair. This judge looks at those candidates again:

1. What the rules know stays final. A leftover negation, number, date or quantifier, a
   name the other lacks (in German, where every noun is capitalised, names are not told
   apart), two different question words, or a negation in other places refuses.
2. Otherwise a model scores the pair from what the reading leaves over and from two
   sentence embeddings: the multilingual Universal Sentence Encoder (its package ships
   the weights and runs on numpy, offline) of both texts, of the words left over on each
   side and of each leftover word against the other side's; the all-MiniLM-L6-v2
   similarity the vector search found; how much of each text is paired and whether the
   paired words keep their roles and order.
3. The model is a small gradient-boosted tree ensemble, trained by
   ``bench/cache_judge_train.py`` on labeled pairs written apart from the sets it is
   judged on, and stored as plain numbers (``judge_model.json``): no training library
   is needed to run it. Its threshold is the lowest score at which rules and judge
   together serve at most 1% wrong in cross-validation. Pairs longer, or with more words
   left over, than any it was trained on are refused.

The judge costs one to a few milliseconds per candidate (two sentence embeddings, kept
by text), more for long questions, and runs in a worker thread of its own. What it still lets through is measured in
production by the error bound (``bound``).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from bisect import bisect_left
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from math import exp
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from wordfreq import zipf_frequency

from gateway.cache import verifier
from gateway.cache.languages import LEXICONS
from gateway.cache.lexicon import WORD, fold
from gateway.cache.reading import Place, Reading, Token
from llmops import sentences

log = logging.getLogger("llmops.gateway.cache")

MODEL_PATH = Path(__file__).with_name("judge_model.json")
ASKING = frozenset(
    k for k, found in verifier._KIND_DIFFERENCE.items() if found is verifier.Difference.QUESTION
)
"""Token kinds that ask (question words, modal verbs)."""
FINAL_KINDS = frozenset(verifier._KIND_DIFFERENCE) - ASKING
"""Leftover token kinds the rules' verdict stands on (negations, numbers, dates,
quantifiers)."""
_T = TypeVar("_T")
EMBEDDINGS_KEPT = 4096
"""Texts whose sentence embedding is kept for reuse (512 floats each: 8 MB)."""
WORDS_KEPT = 256
"""Texts whose per-word reading is kept for reuse (1,280 floats a word: about 20 MB for
questions of a dozen words)."""


@dataclass(frozen=True, slots=True)
class Opening:
    """A pair the rules refused, read for the model: what is paired and what is left."""

    a: Reading
    b: Reading
    checks: tuple[bool, ...]
    """The rules' structure checks over the paired tokens (``verifier.STRUCTURE``)."""
    left_a: tuple[Token, ...]
    left_b: tuple[Token, ...]
    traded: bool = False
    """The same role words govern other paired words in each text: never served. Such
    pairs are still learned from (they teach the model what a swap looks like)."""
    moved: int = 0
    """The fewest paired tokens that must move for both texts to have them in one order."""
    crossed: bool = False
    """Three paired tokens come in reverse order: two words traded places across a third
    ("can a Mac read a Windows disk" / "can Windows read a Mac disk"), where a phrase
    moved whole keeps the tokens it passes in order."""
    asking: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
    """The kinds of answer each text asks for, by its question words (``asks``)."""
    exchanged: bool = False
    """Two paired words that no role word governs traded places ("how many kilometers is
    10 miles" / "how many miles is 10 kilometers"); phrases that trade places keep their
    role words ("for tax purposes ... if self-employed" / "if self-employed ... for tax
    purposes")."""

    @property
    def structure(self) -> bool:
        """Whether the paired tokens keep their roles and order."""
        return all(self.checks)


def opening(query: str, cached: str, compared: verifier.Comparison | None = None) -> Opening | None:
    """The pair as the model reads it (from the rules' comparison of it, made here if not
    given), or None when the rules' refusal is final."""
    compared = compared if compared is not None else verifier.compare(query, cached)
    if compared.difference is verifier.Difference.LANGUAGE:
        return None
    a, b, pairs = compared.a, compared.b, compared.pairs
    paired_a = sorted(i for side, i in pairs if side == 0)
    paired_b = sorted(i for side, i in pairs if side == 1)
    left_a = tuple(t for i, t in enumerate(a.tokens) if (0, i) not in pairs)
    left_b = tuple(t for i, t in enumerate(b.tokens) if (1, i) not in pairs)
    checks = _paired_structure(a, b, pairs, paired_a, paired_b)
    located = sorted(verifier.locate(pairs).values())
    order = [ib for _, ib in located]
    found = Opening(
        a,
        b,
        checks,
        left_a,
        left_b,
        _roles_traded(a, b, pairs),
        len(order) - _rising(order),
        _rising([-i for i in order]) >= 3,
        (asks(query, a.language), asks(cached, a.language)),
        _exchanged(a, b, located),
    )
    return None if _final(found, query, cached) else found


def _exchanged(a: Reading, b: Reading, located: list[tuple[int, int]]) -> bool:
    """Whether two paired tokens, neither governed by a role word, traded places
    (``located``: each pair's indices in the two texts, in the first text's order)."""
    bare = [
        (ia, ib)
        for ia, ib in located
        if not a.places[ia].role and not b.places[ib].role and a.tokens[ia].kind == "word"
    ]
    rank_b = {ib: rank for rank, ib in enumerate(sorted(ib for _, ib in bare))}
    for x, (xa, xb) in enumerate(bare):
        for y in range(x + 1, len(bare)):
            ya, yb = bare[y]
            same_clause = a.places[xa].clause == a.places[ya].clause
            if xb > yb and same_clause and rank_b[xb] == y and rank_b[yb] == x:
                return True
    return False


def _rising(sequence: list[int]) -> int:
    """The length of the longest strictly rising subsequence."""
    tails: list[int] = []
    for x in sequence:
        at = bisect_left(tails, x)
        tails[at : at + 1] = [x]
    return len(tails)


def _roles_traded(a: Reading, b: Reading, pairs: dict[tuple[int, int], int]) -> bool:
    """Whether the same role words govern other paired words in each text: "convert a list
    to a tuple" / "convert a tuple to a list", "from Paris to Lyon" / "from Lyon to Paris"."""
    given = [
        Counter(
            (reading.places[i].role, pair)
            for (side, i), pair in pairs.items()
            if side == which and reading.places[i].role
        )
        for which, reading in enumerate((a, b))
    ]
    used = [Counter(role for role, _ in sides.elements()) for sides in given]
    return used[0] == used[1] and given[0] != given[1]


def _final(found: Opening, query: str, cached: str) -> bool:
    """Whether the rules' refusal stands, whatever the model would say."""
    left = found.left_a + found.left_b
    return (
        any(t.kind in FINAL_KINDS for t in left)
        or (found.a.language != "de" and any(t.name for t in left))
        or (not found.structure and any(t.kind == "not" for t in found.a.tokens))
        or (
            any(t.kind in ASKING for t in found.left_a)
            and any(t.kind in ASKING for t in found.left_b)
        )
        # both ask with question words, for other kinds of answer ("who" / "when"); a
        # question without one ("what is the population of France?") is left to the model
        or (all(found.asking) and found.asking[0] != found.asking[1])
        or _opposites(found, query, cached)
    )


def _opposites(found: Opening, query: str, cached: str) -> bool:
    """Whether a word left over on one side is the opposite by its prefix of a word of the
    other text ("possible" may be read as part of a question frame, "impossible" not)."""
    lexicon = LEXICONS[found.a.language or "en"]
    words_a = {t.surface.replace("-", "") for t in found.left_a if t.kind == "word"}
    words_b = {t.surface.replace("-", "") for t in found.left_b if t.kind == "word"}
    written = (_words(cached), _words(query))
    for side, words in enumerate((words_a, words_b)):
        for word in words:
            for p in lexicon.negating_prefixes:
                rest = word[len(p) :]
                if word.startswith(p) and len(rest) >= 4 and rest in written[side]:
                    return True
    for x in words_a:
        for y in words_b:
            for p, q in lexicon.opposed_prefixes:
                for u, v in ((x, y), (y, x)):
                    if u.startswith(p) and v.startswith(q) and u[len(p) :] == v[len(q) :]:
                        return True
    return False


def _words(text: str) -> frozenset[str]:
    return frozenset(w.replace("-", "") for w in WORD.findall(fold(text)))


@lru_cache(maxsize=8)
def _asking(code: str) -> re.Pattern[str]:
    words = LEXICONS[code].asking
    alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)({alternatives})(?!\w)")


def asks(text: str, code: str | None) -> frozenset[str]:
    """The kinds of answer ``text`` asks for, by its question words."""
    if code not in LEXICONS:
        return frozenset()
    lowered = unicodedata.normalize("NFC", text.lower())
    if code != "fr":  # "où" (where) / "ou" (or): French keeps its accents here
        lowered = fold(lowered)
    asking = LEXICONS[code].asking
    return frozenset(asking[m] for m in _asking(code).findall(lowered))


def _paired_structure(
    a: Reading,
    b: Reading,
    pairs: dict[tuple[int, int], int],
    paired_a: list[int],
    paired_b: list[int],
) -> tuple[bool, ...]:
    """The rules' structure checks over the paired tokens only."""
    only_a, index_a = _only(a, paired_a)
    only_b, index_b = _only(b, paired_b)
    renumbered = {
        (side, (index_a if side == 0 else index_b)[i]): pair for (side, i), pair in pairs.items()
    }
    return tuple(verifier.structure(only_a, only_b, renumbered))


def _only(reading: Reading, keep: list[int]) -> tuple[Reading, dict[int, int]]:
    index = {old: new for new, old in enumerate(keep)}
    places = tuple(
        Place(p.clause, p.role, index.get(p.head, -1), p.item)
        for p in (reading.places[i] for i in keep)
    )
    return Reading(reading.language, tuple(reading.tokens[i] for i in keep), places), index


FEATURES = (
    "use",
    "minilm",
    "structure",
    *verifier.STRUCTURE,
    "moved",
    "crossed",
    "exchanged",
    "asks_differ",
    "left_a",
    "left_b",
    "left_share",
    "words_a",
    "words_b",
    "unbalanced",
    "asking_a",
    "asking_b",
    "min_word",
    "mean_word",
    "leftover_phrases",
    "one_side",
    "spelling",
    "tokens",
    "length_ratio",
    "de",
    "fr",
    "es",
    "context_min_a",
    "context_min_b",
    "context_left_min",
    "context_left_mean",
    "context_cover_a",
    "context_cover_b",
)


class SentenceEncoder:
    """The multilingual Universal Sentence Encoder (512 dimensions, normalised), its
    vectors kept by text; safe to call from several threads."""

    def __init__(self) -> None:
        self._model = sentences.model()
        self._kept: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._words: OrderedDict[str, sentences.Words] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        """Erasures so far: vectors computed across one are not kept."""

    def vectors(self, texts: Sequence[str]) -> list[npt.NDArray[np.float32]]:
        def encode(missing: list[str]) -> list[npt.NDArray[np.float32]]:
            return [np.asarray(v, np.float32) for v in self._model.encode(missing)]

        return self._through(self._kept, EMBEDDINGS_KEPT, texts, encode)

    def words(self, texts: Sequence[str]) -> list[sentences.Words]:
        """Each text's words as the encoder reads them (:func:`llmops.sentences.words_of`),
        the last :data:`WORDS_KEPT` texts' kept: a lookup's question is read once for
        all its candidates."""
        return self._through(self._words, WORDS_KEPT, texts, sentences.words_of)

    def _through(
        self,
        kept: OrderedDict[str, _T],
        most: int,
        texts: Sequence[str],
        compute: Callable[[list[str]], Sequence[_T]],
    ) -> list[_T]:
        """Each text's value, from ``kept`` or computed (outside the lock), and kept
        (the last ``most`` texts), unless an erasure came in between."""
        with self._lock:
            generation = self._generation
            found = {t: kept[t] for t in texts if t in kept}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            found |= dict(zip(missing, compute(missing), strict=True))
        with self._lock:
            if generation == self._generation:
                for text in texts:
                    kept[text] = found[text]
                    kept.move_to_end(text)
                while len(kept) > most:
                    kept.popitem(last=False)
        return [found[t] for t in texts]

    def forget(self) -> None:
        """Drops every kept vector and word reading (and the texts they are kept by),
        including those of lookups in flight."""
        with self._lock:
            self._kept.clear()
            self._words.clear()
            self._generation += 1


def features(
    query: str, cached: str, found: Opening, similarity: float, encoder: SentenceEncoder
) -> list[float]:
    """The model's inputs for one pair, in the order of ``FEATURES``."""
    words_a = [t.surface for t in found.left_a if t.kind == "word"]
    words_b = [t.surface for t in found.left_b if t.kind == "word"]
    phrase_a, phrase_b = " ".join(words_a), " ".join(words_b)
    texts = [query, cached, *words_a, *words_b]
    if words_a and words_b:
        texts += [phrase_a, phrase_b]
    vectors = dict(zip(texts, encoder.vectors(texts), strict=True))
    nearest = [max((_cos(vectors[x], vectors[y]) for y in words_b), default=0.0) for x in words_a]
    nearest += [max((_cos(vectors[x], vectors[y]) for x in words_a), default=0.0) for y in words_b]
    if words_a and words_b:
        phrases = _cos(vectors[phrase_a], vectors[phrase_b])
    else:
        phrases = 0.0 if words_a or words_b else 1.0
    left = len(found.left_a) + len(found.left_b)
    tokens = len(found.a.tokens) + len(found.b.tokens)
    language = found.a.language
    return [
        _cos(vectors[query], vectors[cached]),
        similarity,
        float(found.structure),
        *map(float, found.checks),
        float(found.moved),
        float(found.crossed),
        float(found.exchanged),
        float(found.asking[0] != found.asking[1]),
        float(len(found.left_a)),
        float(len(found.left_b)),
        left / max(tokens, 1),
        float(len(words_a)),
        float(len(words_b)),
        float(abs(len(words_a) - len(words_b))),
        float(sum(t.kind in ASKING for t in found.left_a)),
        float(sum(t.kind in ASKING for t in found.left_b)),
        min(nearest) if nearest else 1.0,
        float(np.mean(nearest)) if nearest else 1.0,
        phrases,
        float(bool(words_a) != bool(words_b)),
        _spelling(words_a, words_b),
        float(tokens),
        min(len(query), len(cached)) / max(len(query), len(cached), 1),
        float(language == "de"),
        float(language == "fr"),
        float(language == "es"),
        *in_context(query, cached, found, encoder),
    ]


def in_context(query: str, cached: str, found: Opening, encoder: SentenceEncoder) -> list[float]:
    """How closely each word, read in its sentence (the encoder's per-word features),
    matches its nearest word of the other text: the worst-matched word of each text; the
    worst and mean match of the words the rules left unpaired (1.0 when none is); and
    each text's mean match, rare words weighing more (weight 7 less the word's Zipf
    frequency)."""
    a, b = encoder.words([query, cached])
    if not a.spans or not b.spans:
        return [0.0] * 6
    va = a.features / np.linalg.norm(a.features, axis=1, keepdims=True).clip(1e-6)
    vb = b.features / np.linalg.norm(b.features, axis=1, keepdims=True).clip(1e-6)
    alike = va @ vb.T
    best_a, best_b = alike.max(axis=1), alike.max(axis=0)
    left_a = {t.surface for t in found.left_a if t.kind == "word"}
    left_b = {t.surface for t in found.left_b if t.kind == "word"}
    left = [float(best_a[i]) for i, (s, e) in enumerate(a.spans) if fold(query[s:e]) in left_a]
    left += [float(best_b[i]) for i, (s, e) in enumerate(b.spans) if fold(cached[s:e]) in left_b]
    code = found.a.language or "en"
    cover = []
    for text, words, best in ((query, a, best_a), (cached, b, best_b)):
        weights = np.array([max(0.5, 7.0 - _zipf(text[s:e].lower(), code)) for s, e in words.spans])
        cover.append(float(weights @ best / weights.sum()))
    return [
        float(best_a.min()),
        float(best_b.min()),
        min(left, default=1.0),
        float(np.mean(left)) if left else 1.0,
        *cover,
    ]


@lru_cache(maxsize=65536)
def _zipf(word: str, code: str) -> float:
    return float(zipf_frequency(word, code))


def _spelling(words_a: list[str], words_b: list[str]) -> float:
    """How close in letters each leftover word comes to one of the other side (1.0: no
    leftover word on either side; 0.0: on one side only)."""
    if not words_a and not words_b:
        return 1.0
    if not words_a or not words_b:
        return 0.0
    best = [max(SequenceMatcher(None, x, y).ratio() for y in words_b) for x in words_a]
    best += [max(SequenceMatcher(None, x, y).ratio() for x in words_a) for y in words_b]
    return min(best)


def _cos(x: npt.NDArray[np.float32], y: npt.NDArray[np.float32]) -> float:
    return float(np.dot(x, y))


class Trees:
    """A gradient-boosted tree ensemble for a binary label, stored as plain numbers:
    each node ``[feature, threshold, left, right, leaf value or None]``."""

    def __init__(self, spec: dict[str, Any]) -> None:
        if tuple(spec["features"]) != FEATURES:
            raise ValueError("the judge's model was trained on other features")
        self.baseline = float(spec["baseline"])
        self.threshold = float(spec["threshold"])
        self.trees: list[list[list[Any]]] = spec["trees"]
        self.max_tokens = int(spec["max_tokens"])
        """The most tokens (both texts) of a pair it was trained on: longer pairs lie
        outside what it knows, and are refused."""
        self.max_words = int(spec["max_words"])
        """The most leftover words (both sides) of a pair it was trained on."""

    def covers(self, tokens: float, words: float) -> bool:
        """Whether a pair of this many tokens and leftover words is within what it knows."""
        return tokens <= self.max_tokens and words <= self.max_words

    def probability(self, x: Sequence[float]) -> float:
        total = self.baseline
        for nodes in self.trees:
            node = nodes[0]
            while node[4] is None:
                node = nodes[node[2] if x[node[0]] <= node[1] else node[3]]
            total += node[4]
        return 1.0 / (1.0 + exp(-total))


class Judge:
    """Serves what the rules refused only when the model is confident it asks the same."""

    def __init__(self, trees: Trees, encoder: SentenceEncoder) -> None:
        self.trees = trees
        self.encoder = encoder

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Judge | None:
        """The shipped judge, or None (logged) when the ``cache`` extra's encoder is not
        installed: the rules alone decide then."""
        try:
            encoder = SentenceEncoder()
        except ImportError:
            log.warning("cache judge off: the sentence encoder is not installed (the cache extra)")
            return None
        return cls(Trees(json.loads(path.read_text())), encoder)

    def warm(self) -> None:
        self.encoder.vectors(["warm up"])

    def score(
        self,
        query: str,
        cached: str,
        similarity: float,
        compared: verifier.Comparison | None = None,
    ) -> float | None:
        """The model's probability that ``cached`` answers ``query``; None when the
        rules' refusal is final, or the pair is larger than any the model learned from.
        ``compared``: the rules' comparison, when made already."""
        found = opening(query, cached, compared)
        if found is None or found.traded or not self.within(found):
            return None
        return self.trees.probability(features(query, cached, found, similarity, self.encoder))

    def within(self, found: Opening) -> bool:
        words = sum(t.kind == "word" for t in found.left_a + found.left_b)
        tokens = len(found.a.tokens) + len(found.b.tokens)
        return self.trees.covers(tokens, words)

    def same(
        self,
        query: str,
        cached: str,
        similarity: float,
        compared: verifier.Comparison | None = None,
    ) -> bool:
        """Whether ``cached`` may answer ``query`` after all."""
        score = self.score(query, cached, similarity, compared)
        return score is not None and score >= self.trees.threshold

    def forget(self) -> None:
        self.encoder.forget()
        _zipf.cache_clear()  # its keys are the questions' words


@lru_cache(maxsize=1)
def shared() -> Judge | None:
    """The process's judge, loaded once (about a second and 100 MB) and warmed; None
    when the encoder is not installed."""
    found = Judge.load()
    if found is not None:
        found.warm()
    return found
