"""A question read for the verifier: its language, and its tokens in their places.

Each text's language is identified (``language``); a text in one the verifier reads is
read through that language's closed word classes (``gateway.cache.languages``):
politeness and filler phrases are removed, articles, pronouns and auxiliaries dropped;
negations, numbers, dates, quantifiers, question words and modal verbs become tokens of
their own class; role words (prepositions, subordinators) give the token after them its
role; every other word is content, by its Snowball stem. Each token's place says its
clause, its role or the head of its phrase, and its item where items are joined by
"and" / "or".
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

from gateway.cache import language
from gateway.cache.languages import LEXICONS
from gateway.cache.lexicon import TERM, WORD, Lexicon, fold

MAX_CHARS = 1000
"""Longer texts are not judged (exact tier only): reading and pairing grow with length
(about 20 ms for 1,000 characters), and a lookup waits for them."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    """``word``, ``not``, ``number``, ``date``, ``quantity``, ``question``, ``modal``,
    ``and`` (a coordinator)."""
    key: str
    surface: str
    """The folded word as written (for typing errors)."""
    name: bool = False
    """Written with a capital: a name (or, in German, any noun)."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where a token stands: its clause, the role word governing it (if it heads the
    phrase after one), and the item it belongs to where items are joined by "and" / "or"."""

    clause: int
    role: str = ""
    """Set on the token a role word governs (the head of its phrase)."""
    head: int = -1
    """For the other tokens of a governed phrase ("cuenta corriente"): its head's index."""
    item: tuple[int, int] | None = None
    """(group, item number): tokens of different items of one group may trade places."""


@dataclass(frozen=True, slots=True)
class Reading:
    language: str | None
    tokens: tuple[Token, ...]
    places: tuple[Place, ...]


_BREAK = re.compile(
    r"[,;:!?.()\[\]{}/|]+(?:\s|$)|[;!?()\[\]{}|\u00bf\u00a1]|\s[-\u2013\u2014]\s|\n"
)
"""Where a clause ends: punctuation, a dash between spaces, a new line."""
_QUOTES = re.compile(r"[\"\u00ab\u00bb\u201c\u201d\u201e\u2018\u2019\u201a]|(?<!\w)'|'(?!\w)")
"""Quotation marks (an apostrophe inside a word stays)."""
_BEFORE_FOLD = {
    "en": (
        ("can't", "can not"),
        ("cannot", "can not"),
        ("won't", "will not"),
        ("n't", " not"),
        ("a lot of", "alot"),
        ("a lot", "alot"),
    ),
    "fr": (("où", " quiwhere "),),
    "es": (("por qué", " quiwhy "), ("porqué", " quiwhy ")),
    "de": (("wie viele", "wieviele"), ("wie viel", "wieviel")),
}
"""Spellings that fold would merge with another word ("où" / "ou"), or split
("don't"), read first."""


class Language:
    """One language's reading machinery: its lexicon, stemmer and set phrases."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._stemmers = threading.local()
        alternatives = "|".join([*lexicon.patterns, *(re.escape(p) for p in lexicon.phrases)])
        self._phrases = re.compile(rf"(?<![\w'-])(?:{alternatives})(?![\w-])")
        self._classes = (
            ("number", lexicon.numbers),
            ("date", lexicon.dates),
            ("quantity", lexicon.quantifiers),
            ("question", lexicon.questions),
            ("modal", lexicon.modals),
            ("not", dict.fromkeys(lexicon.negations, "not")),
        )
        self.closed = (
            lexicon.ignorable
            | lexicon.negations
            | set(lexicon.markers)
            | set(lexicon.elisions)
            | set(lexicon.quantifiers)
            | set(lexicon.coordinators)
            | lexicon.negation_openers
        )

    def stem(self, word: str) -> str:
        """The word's stem (Snowball's stemmers keep state while they work: one per
        thread, as the event loop and the cache judge's thread both read texts)."""
        stemmer = getattr(self._stemmers, "stemmer", None)
        if stemmer is None:
            stemmer = self._stemmers.stemmer = snowballstemmer.stemmer(self.lexicon.stemmer)
        return str(stemmer.stemWord(word))

    def read(self, text: str) -> Reading:
        lowered = text.lower()
        for spelling, reading in _BEFORE_FOLD[self.lexicon.language]:
            lowered = lowered.replace(spelling, reading)
        written = _as_written(text)
        folded = fold(_QUOTES.sub(" ", lowered))
        for _ in range(3):  # nested: "could you please tell me" once "please" is gone
            stripped = self._phrases.sub(" ", folded)
            if stripped == folded:
                break
            folded = stripped
        reader = _Reader(self, written)
        clauses = [_terms(segment.replace("'", " ")) for segment in _BREAK.split(folded)]
        worded = [c for c in clauses if any(term[0].isalnum() for term in c)]
        for words in worded if worded else clauses:  # "Merci 🙂": the smiley alone goes
            if words:
                reader.clause(words)
        return Reading(self.lexicon.language, tuple(reader.tokens), tuple(reader.places))

    def token(self, word: str, written: str) -> Token | None:
        """The token a word makes (None for a closed-class word that makes none);
        ``written``: the word as written, with its capitals."""
        lex = self.lexicon
        if word[0].isdigit():
            return Token("number", _number(word), word)
        if word in lex.ignorable:
            return None
        for kind, table in self._classes:
            if word in table:
                return Token(kind, table[word], word)
        if word in lex.markers or word in lex.coordinators:
            return None
        name = written != word
        if name and (written[1:] != written[1:].lower() or any(c.isdigit() for c in written)):
            # An acronym or a product name (HTTPS, iPhone, GPT4): a suffix is no inflection.
            return Token("word", word.replace("-", ""), word, name=True)
        return Token("word", self.stem(word.replace("-", "")), word, name=name)


@dataclass(slots=True)
class _Phrase:
    """The phrase being read in a clause."""

    role: str = ""
    """A role word waiting for the token it governs."""
    opens_clause: bool = False
    """The role word waiting is a subordinator ("if", "weil"): it governs one word."""
    chunk_role: str = ""
    """The role of the phrase (items joined to it share it)."""
    head: int = -1
    item: tuple[int, int] | None = None
    chunk: list[int] = field(default_factory=list)
    negating: bool = False
    """An opened negation ("ne") waits for its closer."""

    def restart(self, role: str = "") -> None:
        self.chunk_role, self.chunk, self.head, self.item = role, [], -1, None


class _Reader:
    """Reads a text clause by clause (punctuation ends one): each token, and its place."""

    def __init__(self, language: Language, written: dict[str, str]) -> None:
        self._language = language
        self._written = written
        self.tokens: list[Token] = []
        self.places: list[Place] = []
        self._clause = 0
        self._groups = 0

    def clause(self, words: list[str]) -> None:
        lex = self._language.lexicon
        phrase = _Phrase()
        words = self._split(words)
        for position, raw in enumerate(words):
            word = lex.elisions.get(raw, raw) if position + 1 < len(words) else raw
            token = self._word(word, phrase)
            if token is not None:
                self._place(token, phrase)
        if phrase.negating:
            self._add(Token("not", "not", "ne"), Place(self._clause))
        if phrase.role:  # a role word with nothing after it: "what is this used for?"
            self._add(Token("role", phrase.role, phrase.role), Place(self._clause, phrase.role))
        if lex.verb_final:
            self._free_last_word()
        self._clause += 1

    def _word(self, word: str, phrase: _Phrase) -> Token | None:
        """The token of one word, or what it changes in the phrase (a role, a join)."""
        lex = self._language.lexicon
        if word in lex.negation_openers:
            phrase.negating = True
            return None
        if phrase.negating and (word in lex.negation_closers or word in lex.negations):
            phrase.negating = False
            return Token("not", "not", word)
        if phrase.negating and word in lex.restrictive_closers:
            phrase.negating = False
            return Token("quantity", "only", word)
        token = self._language.token(word, self._written.get(word, word))
        if token is not None:
            return token
        if word in lex.markers:
            marker = lex.markers[word]
            phrase.role = f"{phrase.role}+{marker}" if phrase.role else marker
            phrase.opens_clause = word in lex.subordinators
            phrase.chunk, phrase.item, phrase.head = [], None, -1
        elif word in lex.coordinators:
            self._join(Token("and", lex.coordinators[word], word), phrase)
        elif word in lex.determiners and phrase.chunk and not phrase.role:
            phrase.restart()  # a new noun phrase
        return None

    def _join(self, token: Token, phrase: _Phrase) -> None:
        """ "X and Y": the phrase so far is one item of a group, the next one another."""
        self._add(token, Place(self._clause))
        if phrase.item is None:
            phrase.item = (self._groups, 0)
            self._groups += 1
            for i in phrase.chunk:
                p = self.places[i]
                self.places[i] = Place(self._clause, p.role, p.head, phrase.item)
        phrase.item = (phrase.item[0], phrase.item[1] + 1)
        phrase.role, phrase.chunk, phrase.head = phrase.chunk_role, [], -1

    def _place(self, token: Token, phrase: _Phrase) -> None:
        if phrase.role:
            phrase.chunk_role, phrase.chunk = phrase.role, []
            index = self._add(token, Place(self._clause, phrase.role, -1, phrase.item))
            phrase.head, phrase.role = (-1 if phrase.opens_clause else index), ""
        else:
            if phrase.chunk and token.kind in ("quantity", "number"):
                phrase.restart()  # a new noun phrase: "in PostgreSQL alle Datenbanken"
            index = self._add(token, Place(self._clause, "", phrase.head, phrase.item))
        phrase.chunk.append(index)

    def _free_last_word(self) -> None:
        """A clause's last word stands free where the verb closes the clause (German):
        "... in Python eine Liste umkehren" does not reverse "in Python"."""
        for index in range(len(self.tokens) - 1, -1, -1):
            place = self.places[index]
            if place.clause != self._clause:
                return
            if self.tokens[index].kind == "word":
                if not place.role:
                    self.places[index] = Place(place.clause, "", -1, place.item)
                return

    def _split(self, words: list[str]) -> list[str]:
        """Hyphenated words split where a part is a closed-class word ("peut-on",
        "a-t-il"), kept whole otherwise ("Wi-Fi")."""
        closed = self._language.closed
        out: list[str] = []
        for word in words:
            parts = word.split("-")
            if len(parts) > 1 and word not in closed and any(p in closed for p in parts):
                out.extend(p for p in parts if p != "t")
            else:
                out.append(word)
        return out

    def _add(self, token: Token, place: Place) -> int:
        self.tokens.append(token)
        self.places.append(place)
        return len(self.tokens) - 1


_SYMBOLS = frozenset("+#%&=<>^|@$€£¥°§")
_SYMBOL_CATEGORIES = frozenset({"So", "Sm", "Sc"})


def _terms(segment: str) -> list[str]:
    """The words of a clause, and the symbols that change what it asks ("5%" / "5",
    "3+4" / "3*4" stay apart, as "😀" / "😂" do); other punctuation is dropped."""
    return [
        term
        for term in TERM.findall(segment)
        if term[0].isalnum()
        or term in _SYMBOLS
        or unicodedata.category(term[0]) in _SYMBOL_CATEGORIES
    ]


def _number(word: str) -> str:
    """Digits without their grouping: 1,000 and 1.000 read as 1000; 2,5 as 2.5."""
    parts = re.split(r"[.,]", word)
    if len(parts) > 1 and all(len(p) == 3 for p in parts[1:]):
        return "".join(parts)
    return word.replace(",", ".")


_OPENS = re.compile(r"(?:^|[.!?:;\u2026\n])[\s\"'\u00ab\u201c\u201e(\u00bf\u00a1*-]*$")
"""What stands before a sentence's first word: the capital it takes says nothing."""


def _as_written(text: str) -> dict[str, str]:
    """Each folded word with a capital, as written ("HTTPS", "Paris", "iPhone"). A word
    capitalised only because it opens a sentence ("Sorry, ...", "... ? Thanks!") is not
    one, unless its other letters are capitals too ("HTTP", "iOS") or it is written with a
    capital elsewhere in the text."""
    written: dict[str, str] = {}
    for match in WORD.finditer(text):
        word = match.group()
        if word == word.lower():
            continue
        opening = word[1:] == word[1:].lower() and _OPENS.search(text, 0, match.start())
        if not opening:
            written[fold(word)] = word
    return written


@lru_cache(maxsize=8)
def language_of(code: str) -> Language:
    return Language(LEXICONS[code])


@lru_cache(maxsize=8192)
def read(text: str) -> Reading:
    """A text's language and phrases (``language`` None: not one the verifier judges)."""
    code = language.detect(text) if len(text) <= MAX_CHARS else None
    if code is None:
        return Reading(None, (), ())
    return language_of(code).read(text)
