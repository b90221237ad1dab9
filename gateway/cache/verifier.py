"""The check after a vector match: two texts close in meaning may still ask different things.

Sentence embeddings place "Is X safe?" next to "Is X not safe?", "5 miles" next to
"50 miles", and "the capital of France" next to "the capital of Spain". The
verifier compares what an embedding blurs, as exact sets: negations, numbers
(digits and number words), named entities (capitalised words and acronyms,
anywhere but as a sentence's common first word) and dates (months, weekdays,
relative days). Any difference refuses the match. So does a changed content word in
an otherwise aligned text ("center a div horizontally" / "vertically"), a reversed
direction ("X to Y" / "Y to X"), or another kind of question ("who" / "when" / "where" /
"why" / "how").

Content words are compared by crude stem, after three readings that let a rewording
through: irregular forms become their base word ("wrote", "written": "write"), the
words of a small synonym group become its first ("author", "writer": "write"; "signs":
"symptoms"; "height", "high": "tall"), and inflected stop words stay stop words
("makes", "needs"), as do linking verbs ("why does the sky look blue"). The groups hold
only words that ask the same thing in any question; antonyms and neighbours
("buy" / "sell", "height" / "width", "open" / "create") are never grouped.

It errs on the side of a miss: a paraphrase that swaps "not allowed" for "forbidden",
or "formula" for "calculate", is refused, which costs a replica call, never a wrong
answer.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


def _words(text: str) -> list[str]:
    return text.split()


class Difference(StrEnum):
    NEGATION = "negation"
    NUMBER = "number"
    ENTITY = "entity"
    DATE = "date"
    TERM = "term"
    """One content word changed, added or dropped while the rest stands in the same order
    ("center a div horizontally" / "vertically"), a direction reversed ("X to Y"), or
    another kind of question ("who wrote X" / "when was X written")."""


NEGATIONS = frozenset(
    _words(
        """not no never none nobody nothing nowhere neither nor without cannot
    hardly barely"""
    )
)
NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        _words(
            """zero one two three four five six seven eight nine ten eleven twelve thirteen
        fourteen fifteen sixteen seventeen eighteen nineteen twenty"""
        )
    )
}
NUMBER_WORDS |= {
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
    "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
    "million": "1000000", "billion": "1000000000", "dozen": "12", "half": "0.5",
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
    "once": "1x", "twice": "2x", "double": "2x", "triple": "3x",
}  # fmt: skip
DATE_WORDS = frozenset(
    _words(
        """january february april june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday
    friday saturday sunday today tomorrow yesterday tonight morning evening night weekend
    week month year decade century spring summer autumn winter christmas easter
    next last previous ago"""
    )
)
# Words that open questions and requests: capitalised there, yet no names.
COMMON_OPENERS = frozenset(
    _words(
        """a an the what whats what's which who whom whose why how hows how's when where is are
    was were do does did can could would should will shall may might must i i'm i've im me
    my we our you your it its it's this that these those there here please tell give show
    explain describe list name write summarize summarise define compare find help make
    create suggest recommend translate convert calculate compute in on at for from to of
    by with about and or but if so any some all every each one hey hi hello ok okay thanks
    let let's lets need want would've yes yeah quick briefly simply also now then multiply
    add subtract divide compose draft rewrite isn't"""
    )
)
STOPWORDS = frozenset(
    _words(
        """a an the and or but if then so of in on at to for from by with about as into onto
    over under than too very much many more most less least some any all each every
    both either is are was were be been being am do does did doing done have has had
    having can could would should will shall may might must i me my mine we us our you
    your it its they them their he him his she her this that these those there here
    what whats which who whom whose why how when where s t way ways thing things
    please tell know want need like get got make let lets just also really actually
    best good better great quick quickly simple simply briefly brief exactly kind sort
    type one ones someone something anything everything able possible use using used
    go going out up down off again once idea step steps process number amount explain
    describe summarize summarise define recommend suggest look seem appear between among
    whether"""
    )
)
IRREGULAR_FORMS = {
    "wrote": "write", "written": "write", "made": "make", "took": "take", "taken": "take",
    "gave": "give", "given": "give", "went": "go", "gone": "go", "goes": "go",
    "came": "come", "saw": "see", "seen": "see", "knew": "know", "known": "know",
    "got": "get", "gotten": "get", "told": "tell", "said": "say", "thought": "think",
    "found": "find", "brought": "bring", "bought": "buy", "sold": "sell", "built": "build",
    "began": "begin", "begun": "begin", "broke": "break", "broken": "break",
    "chose": "choose", "chosen": "choose", "drove": "drive", "driven": "drive",
    "ate": "eat", "eaten": "eat", "fell": "fall", "fallen": "fall", "felt": "feel",
    "flew": "fly", "flown": "fly", "flies": "fly", "forgot": "forget",
    "forgotten": "forget", "froze": "freeze", "frozen": "freeze", "grew": "grow",
    "grown": "grow", "held": "hold", "kept": "keep", "lost": "lose", "meant": "mean",
    "met": "meet", "paid": "pay", "ran": "run", "risen": "rise",
    "sent": "send", "shook": "shake", "shaken": "shake", "sang": "sing", "sung": "sing",
    "sank": "sink", "sunk": "sink", "sat": "sit", "slept": "sleep", "spoke": "speak",
    "spoken": "speak", "spent": "spend", "stood": "stand", "stole": "steal",
    "stolen": "steal", "swam": "swim", "swum": "swim", "taught": "teach",
    "threw": "throw", "thrown": "throw", "understood": "understand", "woke": "wake",
    "woken": "wake", "won": "win", "wore": "wear", "worn": "wear", "drew": "draw",
    "drawn": "draw", "drank": "drink", "drunk": "drink", "fought": "fight", "hid": "hide",
    "hidden": "hide", "caught": "catch", "sought": "seek", "rode": "ride",
    "ridden": "ride", "hung": "hang", "became": "become", "children": "child",
    "men": "man", "women": "woman", "mice": "mouse", "feet": "foot", "teeth": "tooth",
}  # fmt: skip
"""Forms the suffix stemmer cannot bring back to their base word."""
SYNONYM_GROUPS = (
    "write writer author",
    "symptom sign",
    "tall high height elevation altitude",
    "calculate compute calculation computation",
    "differ different difference distinguish",
    "old age",
    "convert transform turn",
    "remove delete erase",
    "begin start",
    "buy purchase",
    "cost price",
    "fix repair",
    "big large",
    "child kid",
)
"""Words that ask the same thing in any question, each group read as its first word.
Only true synonyms: antonyms ("increase" / "decrease", "buy" / "sell") and
neighbours ("height" / "width", "open" / "create") stay apart."""
QUESTION_WORDS = {
    "who": "who", "whom": "who", "whose": "who", "when": "when", "where": "where",
    "why": "why", "how": "how", "hows": "how",
}  # fmt: skip
"""The kind of answer a question asks for: a person, a time, a place, a reason, a way."""
DIRECTIONAL = frozenset({"to", "into", "than", "versus", "vs"})
NEGATING_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non")
"""safe / unsafe, possible / impossible: a negation within one word."""
TOKEN = re.compile(r"[A-Za-z][A-Za-z'\-]*|\d[\d,]*(?:\.\d+)?%?")
SENTENCE_END = re.compile(r"[.!?]\s+|\n")


NEVER_NAMES = frozenset({"i", "i'm", "i've", "i'd", "i'll", "ok", "okay"})


@dataclass(frozen=True, slots=True)
class Facts:
    negations: tuple[str, ...]
    numbers: frozenset[str]
    entities: frozenset[str]
    dates: frozenset[str]
    words: frozenset[str]
    """Every word, lower-cased: an entity is matched by its word in any case."""
    terms: tuple[str, ...]
    """Content words (stemmed), in order of first appearance."""
    directions: frozenset[tuple[str, str]]
    """(x, y) for "x to y", "x into y", "x than y"."""
    compounds: frozenset[tuple[str, str]]
    """Content words side by side ("population density", "salt water")."""
    entity_order: tuple[str, ...]
    """Entities in order of first appearance ("from London to New York")."""
    asks: str | None
    """The first question word, read by kind (``QUESTION_WORDS``): what the text asks for."""


class _Reader:
    """Collects the facts of a text, sentence by sentence."""

    def __init__(self) -> None:
        self.negations: list[str] = []
        self.numbers: set[str] = set()
        self.entities: set[str] = set()
        self.dates: set[str] = set()
        self.words: set[str] = set()
        self.terms: dict[str, None] = {}
        self.directions: set[tuple[str, str]] = set()
        self.compounds: set[tuple[str, str]] = set()
        self.order: dict[str, None] = {}
        self.asks: str | None = None

    def sentence(self, tokens: list[str]) -> None:
        for position, token in enumerate(tokens):
            word = token.lower().removesuffix("'s")
            self.words.add(word)
            if self.asks is None:
                self.asks = QUESTION_WORDS.get(word)
            self.note(token, first=position == 0)
            if word in self.entities:
                self.order[word] = None
        stems = [_stem(t) for t in tokens]
        named = {e for e in self.entities if len(e) == 1}  # "vitamin D deficiency"
        self.compounds.update(
            (x, y)
            for x, y in itertools.pairwise(stems)
            if (_is_term(x) or x in named) and (_is_term(y) or y in named)
        )
        for i, stem in enumerate(stems):
            if stem in DIRECTIONAL:
                before = next((s for s in reversed(stems[:i]) if _is_term(s)), None)
                after = next((s for s in stems[i + 1 :] if _is_term(s)), None)
                if before and after:
                    self.directions.add((before, after))
            elif _is_term(stem):
                self.terms[stem] = None

    def note(self, token: str, *, first: bool) -> None:
        lower = token.lower()
        if token[0].isdigit():
            self.numbers.add(token.replace(",", "").rstrip("."))
        elif lower in NEGATIONS or lower.endswith("n't"):
            self.negations.append("not")
        elif lower in NUMBER_WORDS:
            self.numbers.add(NUMBER_WORDS[lower])
        elif lower in DATE_WORDS:
            self.dates.add(lower)
        elif lower.endswith("s") and lower[:-1] in DATE_WORDS:
            self.dates.add(lower[:-1])
        elif (
            token[0].isupper()
            and lower not in NEVER_NAMES
            and not (first and lower in COMMON_OPENERS)
        ):
            self.entities.add(lower.removesuffix("'s"))

    def facts(self) -> Facts:
        return Facts(
            negations=tuple(sorted(self.negations)),
            numbers=frozenset(self.numbers),
            entities=frozenset(self.entities),
            dates=frozenset(self.dates),
            words=frozenset(self.words),
            terms=tuple(self.terms),
            directions=frozenset(self.directions),
            compounds=frozenset(self.compounds),
            entity_order=tuple(self.order),
            asks=self.asks,
        )


@lru_cache(maxsize=4096)
def facts_of(text: str) -> Facts:
    """The parts of a text an embedding blurs, as comparable sets."""
    reader = _Reader()
    for sentence in SENTENCE_END.split(text):
        reader.sentence(TOKEN.findall(sentence))
    return reader.facts()


def _stem(token: str) -> str:
    """A crude stem ("boiling" and "boil" meet), read as its synonym group's first word;
    stop words, inflected or not ("makes", "needs"), come back as the stop word."""
    word = token.lower().removesuffix("'s").replace("'", "")
    word = IRREGULAR_FORMS.get(word, word)
    if word in STOPWORDS:
        return word
    stem = _strip_suffix(word)
    for stop in (stem, stem + "e"):
        if stop in STOPWORDS:
            return stop
    return SYNONYMS.get(stem, stem)


def _strip_suffix(word: str) -> str:
    for suffix in ("ingly", "edly", "ment", "ing", "ied", "ies", "ed", "ly", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


SYNONYMS = {
    _strip_suffix(word): _strip_suffix(group.split()[0])
    for group in SYNONYM_GROUPS
    for word in group.split()
}


def _is_term(stem: str) -> bool:
    return len(stem) > 1 and not stem[0].isdigit() and stem not in STOPWORDS


def difference(query: str, cached: str) -> Difference | None:
    """The first kind of difference that makes ``cached`` unfit to answer ``query``."""
    a, b = facts_of(query), facts_of(cached)
    if a.negations != b.negations or _negated_word(a.words, b.words):
        return Difference.NEGATION
    if a.numbers != b.numbers:
        return Difference.NUMBER
    if a.dates != b.dates:
        return Difference.DATE
    if not (a.entities <= b.words and b.entities <= a.words) or _reordered(
        a.entity_order, b.entity_order
    ):
        return Difference.ENTITY
    if _term_changed(a, b):
        return Difference.TERM
    return None


def _term_changed(a: Facts, b: Facts) -> bool:
    """Another kind of question, a one-word change in an otherwise aligned text, or a
    reversed direction."""
    if a.asks and b.asks and a.asks != b.asks:
        return True  # who wrote X / when was X written
    if a.directions & {(y, x) for x, y in b.directions if x != y}:
        return True
    common = set(a.terms) & set(b.terms)
    only_a, only_b = set(a.terms) - common, set(b.terms) - common
    aligned = [t for t in a.terms if t in common] == [t for t in b.terms if t in common]
    if len(common) < 2 or not aligned:
        return False
    if len(only_a) == 1 and len(only_b) == 1:
        return True  # horizontally / vertically, soft / hard, start / end
    # One word added that qualifies a shared one: population / population density.
    for added, facts in ((only_a, a), (only_b, b)):
        if len(added) == 1 and not (only_a and only_b):
            (word,) = added
            shared = common | a.entities | b.entities
            if any(word in pair and (set(pair) - {word}) <= shared for pair in facts.compounds):
                return True
    return False


def _reordered(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    common = set(a) & set(b)
    return [e for e in a if e in common] != [e for e in b if e in common]


def _negated_word(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether one text has a word the other has with a negating prefix."""
    for words, other in ((a - b, b), (b - a, a)):
        for word in words:
            for prefix in NEGATING_PREFIXES:
                base = word.removeprefix(prefix)
                if base != word and len(base) >= 4 and base in other and base not in words:
                    return True
    return False
