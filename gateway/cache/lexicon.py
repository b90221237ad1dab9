"""The shape of a language's closed word classes, as the verifier reads them; each
language's own are in ``gateway.cache.languages``.

Only closed classes are listed: articles, pronouns, auxiliaries, prepositions, negations,
quantifiers, number words, months and weekdays, question words, and the set phrases of
politeness, filler and question frames. These are small, finite parts of each language
(a grammar lists them), not vocabulary: every other word of a text is content, and the
verifier requires each content word of one text to find its match in the other. So a
word missing from these lists makes the cache refuse more, never answer wrongly.

Words are written as people write them and folded once (``fold``): lower case, German
umlauts and ß spelled out (ä: ae, ß: ss, as people type without them), other accents
dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

LANGUAGES = ("en", "fr", "es", "de")
"""The languages the verifier can judge; a text in any other goes to the exact tier only."""

_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(text: str) -> str:
    """Lower case, umlauts spelled out, other accents dropped, apostrophes made one."""
    text = unicodedata.normalize("NFC", text.lower()).translate(_SPELLED_OUT)
    text = text.replace("\u2019", "'").replace("\u02bc", "'").replace("`", "'")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(words: str) -> frozenset[str]:
    return frozenset(fold(w) for w in words.split())


INTERJECTIONS = words("hey hi hello ok okay hmm hm lol xd thx pls plz")
"""Written alike in every language the verifier reads."""


def classes(table: dict[str, str]) -> dict[str, str]:
    """``{"all tous": "all"}`` read as each word to its class."""
    return {fold(w): cls for words, cls in table.items() for w in words.split()}


def phrases(text: str) -> tuple[str, ...]:
    """One phrase per line, longest first (so that "thanks in advance" goes before
    "thanks"); each also as typed without its apostrophes and hyphens ("cest quoi",
    "est ce que")."""
    lines = {fold(line.strip()) for line in text.strip().splitlines() if line.strip()}
    variants = {v for p in lines for v in (p, p.replace("'", ""), p.replace("'", " "))}
    variants |= {v.replace("-", " ") for v in variants}
    return tuple(sorted(variants, key=lambda p: (-len(p), p)))


@dataclass(frozen=True)
class Lexicon:
    language: str
    stemmer: str
    """The Snowball stemmer's name for the language."""
    ignorable: frozenset[str]
    """Articles, pronouns, auxiliaries, question frames: they change no answer."""
    phrases: tuple[str, ...]
    """Politeness, filler and question frames, removed whole before reading."""
    negations: frozenset[str]
    quantifiers: dict[str, str]
    """Word: its class ("every", "each": "each")."""
    markers: dict[str, str]
    """Prepositions and subordinators: they open a phrase and say its role."""
    coordinators: dict[str, str]
    """Words that join items whose order does not matter ("X and Y"), by class."""
    questions: dict[str, str]
    """Question words that say what kind of answer is asked for (a person, a time...)."""
    numbers: dict[str, str]
    dates: dict[str, str]
    """Months, weekdays and days relative to today: word to its canonical name."""
    patterns: tuple[str, ...] = ()
    """Politeness and filler as patterns that compose their parts ("could you (please)
    tell me"): regular expressions over folded text, removed like ``phrases``."""
    settings: frozenset[str] = frozenset()
    """Role classes that set a scene ("on Windows", "with CSS"): terse questions drop their
    role word ("windows - ..."), which then counts as the same."""
    subordinators: frozenset[str] = frozenset()
    """Role words that open a clause ("if", "weil"): they govern its first word only."""
    determiners: frozenset[str] = frozenset()
    """Articles and possessives: past a phrase's first word, one opens a new noun phrase."""
    verb_final: bool = False
    """The verb closes the clause (German): the last word is no part of the phrase before."""
    modals: dict[str, str] = field(default_factory=dict)
    """Modal verbs that change what is asked (may, must, should), by class."""
    elisions: dict[str, str] = field(default_factory=dict)
    """Elided forms before an apostrophe ("l'", "qu'") read as their full word."""
    negation_openers: frozenset[str] = frozenset()
    """Words that open a negation closed later ("ne ... pas"): read with their closer."""
    negation_closers: frozenset[str] = frozenset()
    """Words that negate only after an opener ("ne ... personne", "ne ... plus")."""
    restrictive_closers: frozenset[str] = frozenset()
    """A closer that makes "only" of an opener ("ne ... que")."""
    asking: dict[str, str] = field(default_factory=dict)
    """For the judge: question words and phrases by the kind of answer they ask for (a
    person, a time, a place, a reason, an amount), found anywhere in the text, also where
    the reading takes one for a role word ("when"). Folded, but for French, where only
    its accent tells "où" (where) from "ou" (or)."""
    negating_prefixes: tuple[str, ...] = ()
    """For the judge: prefixes that make a word its opposite ("inscrire" / "désinscrire")."""
    opposed_prefixes: tuple[tuple[str, str], ...] = ()
    """For the judge: prefixes that trade a word for its opposite ("import" / "export")."""


def dates(
    *, months: str, abbreviations: str, weekdays: str, relative: dict[str, str]
) -> dict[str, str]:
    """Months (and their abbreviations, "_" for none), weekdays (also as plurals: "on
    Mondays", "los lunes", "dienstags") and days relative to today, to canonical names."""
    table: dict[str, str] = {}
    for i, name in enumerate(months.split(), start=1):
        table[name] = f"month{i}"
    for i, name in enumerate(abbreviations.split(), start=1):
        if name != "_":
            table[name] = f"month{i}"
    for i, name in enumerate(weekdays.split(), start=1):
        table[name] = f"day{i}"
        table[name + "s"] = f"day{i}"
    for word, name in relative.items():
        table[fold(word)] = name
    return table


def numbers(words: str, tens: str, extra: dict[str, str]) -> dict[str, str]:
    table = {fold(w): str(i) for i, w in enumerate(words.split())}
    table |= {fold(w): str(10 * i) for i, w in enumerate(tens.split(), start=2)}
    return table | {fold(w): v for w, v in extra.items()}


_NUMBER = r"\d+(?:[.,:]\d+)*"
_LETTERS = r"[^\W\d_]+(?:-[^\W\d_]+)*"
WORD = re.compile(rf"{_NUMBER}|{_LETTERS}", re.UNICODE)
"""Numbers (with their separators) and words (with inner hyphens)."""
TERM = re.compile(rf"{_NUMBER}|{_LETTERS}[+#]*|[^\w\s]", re.UNICODE)
"""``WORD``'s numbers and words (also "C++", "C#"), and single other characters."""
