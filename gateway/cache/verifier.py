"""The check after a vector match: two texts close in meaning may still ask different things.

Sentence embeddings place "Is X safe?" next to "Is X not safe?", "convert X to Y" next
to "convert Y to X", and "all" next to "some". The verifier does not look for such
differences one kind at a time; it asks for positive evidence of sameness:

1. Both texts are in the same language, one it can judge (``lexicon.LANGUAGES``);
   any other language goes to the exact tier only.
2. Each text is read into tokens in their places (``reading``): clause, role word
   ("to", "from", "de", "nach") or the head of their phrase.
3. Every token of one text must be matched by a token of the other: content words by
   stem or by one slip of the keyboard (``_typo``), every other class by its exact
   value. One token left over refuses.
4. The phrases must hold the matched tokens in the same roles and the same order. A
   phrase may move ("in Python, how do I..." / "how do I ... in Python") but not trade
   its content with another ("from Paris to Lyon" / "from Lyon to Paris"), and the
   tokens of a phrase keep their order ("does A cause B" / "does B cause A"), except
   items joined by "and" / "or", whose order does not matter.

It errs on the side of a miss: a rewording with other content words ("author" for
"wrote") is refused, which costs a replica call, never a wrong answer. What it still
lets through is measured in production by the error bound (``bound``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import wordfreq
from wordfreq import zipf_frequency

from gateway.cache import language
from gateway.cache.languages import LEXICONS
from gateway.cache.reading import Place, Reading, Token, language_of, read

COMMON_WORD = 2.0
"""Zipf frequency (wordfreq) from which a word is a word of the language, not a slip:
"employer" / "employee" are both words and stay apart; "lugage" is a slip."""


class Difference(StrEnum):
    LANGUAGE = "language"
    """Not the same language, one the verifier cannot judge, or a text too long to judge."""
    NEGATION = "negation"
    NUMBER = "number"
    DATE = "date"
    QUANTIFIER = "quantifier"
    QUESTION = "question"
    """Another kind of question ("who" / "when" / "where" / "why"), or a modal verb."""
    ENTITY = "entity"
    """A name in one text (a capitalised word, past the first) the other lacks."""
    TERM = "term"
    """A content word in one text that the other lacks."""
    ORDER = "order"
    """The same words in other roles or another order ("X to Y" / "Y to X")."""


_KIND_DIFFERENCE = {
    "not": Difference.NEGATION,
    "number": Difference.NUMBER,
    "date": Difference.DATE,
    "quantity": Difference.QUANTIFIER,
    "question": Difference.QUESTION,
    "modal": Difference.QUESTION,
}


def warm() -> None:
    """Loads what the first reading would (the language model, the stemmers, the word
    lists): about a second, better spent at start-up than in a request."""
    for code in LEXICONS:
        language_of(code).stem("warm")
        zipf_frequency("warm", code)
    language.detect("warm up")


def forget_texts() -> None:
    """Drops the readings (and languages) of texts kept for reuse: after an erasure, no
    text of the erased subject stays in this process."""
    read.cache_clear()
    language.detect.cache_clear()
    wordfreq_cache = getattr(wordfreq, "_wf_cache", None)  # keyed by the words looked up
    if isinstance(wordfreq_cache, dict):
        wordfreq_cache.clear()


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two texts as the rules compared them."""

    difference: Difference | None
    """The first kind of difference that makes the cached text unfit (None: none)."""
    a: Reading
    """The query's reading."""
    b: Reading
    """The cached text's reading."""
    pairs: dict[tuple[int, int], int]
    """Each paired token, ``{(side, index): pair id}`` (empty when not read alike)."""


def difference(query: str, cached: str) -> Difference | None:
    """The first kind of difference that makes ``cached`` unfit to answer ``query``."""
    return compare(query, cached).difference


def compare(query: str, cached: str) -> Comparison:
    """The rules' verdict on ``cached`` for ``query``, with the readings and pairing it
    rests on (which the judge reads again, without reading the texts twice)."""
    a, b = read(query), read(cached)
    if a.language is None or a.language != b.language:
        return Comparison(Difference.LANGUAGE, a, b, {})
    pairs, left = _align(a.tokens, b.tokens, (a.places, b.places), a.language)
    found: Difference | None = None
    if left is not None:
        content = Difference.ENTITY if left.name else Difference.TERM
        found = _KIND_DIFFERENCE.get(left.kind, content)
    elif not _same_structure(a, b, pairs):
        found = Difference.ORDER
    return Comparison(found, a, b, pairs)


MAX_SLIPS = 4
"""Tokens left unpaired by their key past which no slip of the keyboard is looked for:
so many differences are no typing errors (and the search stays linear)."""


def _align(
    a: tuple[Token, ...],
    b: tuple[Token, ...],
    places: tuple[tuple[Place, ...], ...],
    code: str,
) -> tuple[dict[tuple[int, int], int], Token | None]:
    """Pairs each token of ``a`` with one of ``b``: ``{(side, index): pair id}``, and the
    first token left without a pair (None when every token found one)."""
    matched: dict[tuple[int, int], int] = {}
    by_key: dict[tuple[str, str], list[int]] = {}
    for j, token in enumerate(b):
        by_key.setdefault((token.kind, token.key), []).append(j)
    contexts = (_contexts(a, places[0]), _contexts(b, places[1]))
    pending: list[int] = []
    for i, token in enumerate(a):
        same = by_key.get((token.kind, token.key))
        if not same:
            pending.append(i)
            continue
        j = same[0] if len(same) == 1 else max(same, key=lambda j: _overlap(contexts, i, j))
        same.remove(j)
        matched[(0, i)] = matched[(1, j)] = i
    free_b = sorted(j for js in by_key.values() for j in js)
    if len(pending) > MAX_SLIPS or len(free_b) > MAX_SLIPS:
        return matched, a[pending[0]] if pending else b[free_b[0]]
    for i in list(pending):
        candidates = [j for j in free_b if _typo(a[i], b[j], code)]
        if len(candidates) == 1:
            (j,) = candidates
            free_b.remove(j)
            pending.remove(i)
            matched[(0, i)] = matched[(1, j)] = i
    if pending:
        return matched, a[pending[0]]
    if free_b:
        return matched, b[free_b[0]]
    return matched, None


Context = tuple[str, str, frozenset[str], frozenset[str]]
"""A token's surroundings: its role, its head's key, the keys it governs, its neighbours'."""


def _contexts(tokens: tuple[Token, ...], places: tuple[Place, ...]) -> list[Context]:
    governed: dict[int, set[str]] = {}
    for k, place in enumerate(places):
        if place.head >= 0:
            governed.setdefault(place.head, set()).add(tokens[k].key)
    return [
        (
            place.role,
            tokens[place.head].key if place.head >= 0 else "",
            frozenset(governed.get(i, ())),
            frozenset(tokens[k].key for k in (i - 1, i + 1) if 0 <= k < len(tokens)),
        )
        for i, place in enumerate(places)
    ]


def _overlap(contexts: tuple[list[Context], list[Context]], i: int, j: int) -> int:
    """How alike two tokens' surroundings are (role, head, the words of their phrase):
    of two "cuenta", the one "de ahorro" pairs with the one "de ahorro"."""
    ra, ha, ga, na = contexts[0][i]
    rb, hb, gb, nb = contexts[1][j]
    return 4 * (ra == rb) + 2 * (bool(ha) and ha == hb) + 2 * len(ga & gb) + len(na & nb)


def _same(x: Token, y: Token) -> bool:
    return x.kind == y.kind and x.key == y.key


def _typo(x: Token, y: Token, code: str) -> bool:
    """One slip of the keyboard past the first letter: two neighbours swapped or a letter
    doubled (words of four letters or more), a letter missing or added (five or more),
    or one mistyped past the second letter (six or more); and one of the two is no common
    word of the language. "absteigend" / "aufsteigend", "pain" / "paint" and "employer" /
    "employee" stay apart."""
    if x.kind != "word" or y.kind != "word":
        return False
    s, t = x.surface.replace("-", ""), y.surface.replace("-", "")
    shortest = min(len(s), len(t))
    if s[:1] != t[:1] or s == t or shortest < 4:
        return False
    if _swapped_or_doubled(s, t):
        slip = True
    elif len(s) != len(t):
        slip = shortest >= 5 and _edits(s, t, 1) <= 1
    else:
        slip = shortest >= 6 and s[:2] == t[:2] and _edits(s, t, 1) <= 1
    return slip and min(zipf_frequency(s, code), zipf_frequency(t, code)) < COMMON_WORD


def _swapped_or_doubled(s: str, t: str) -> bool:
    if len(s) == len(t):
        diff = [i for i in range(len(s)) if s[i] != t[i]]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and s[diff[0]] == t[diff[1]]
            and s[diff[1]] == t[diff[0]]
        )
    longer, shorter = (s, t) if len(s) > len(t) else (t, s)
    if len(longer) != len(shorter) + 1:
        return False
    for i in range(len(longer)):
        if longer[:i] + longer[i + 1 :] == shorter:
            return (i > 0 and longer[i] == longer[i - 1]) or (
                i + 1 < len(longer) and longer[i] == longer[i + 1]
            )
    return False


def _edits(s: str, t: str, bound: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one), cut off past ``bound``."""
    if abs(len(s) - len(t)) > bound:
        return bound + 1
    previous2: list[int] = []
    previous = list(range(len(t) + 1))
    for i in range(1, len(s) + 1):
        current = [i] + [0] * len(t)
        for j in range(1, len(t) + 1):
            cost = 0 if s[i - 1] == t[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and s[i - 1] == t[j - 2] and s[i - 2] == t[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > bound:
            return bound + 1
        previous2, previous = previous, current
    return previous[-1]


Located = dict[int, tuple[int, int]]
"""Each pair id: (its token's index in the first text, in the second)."""


def locate(pairs: dict[tuple[int, int], int]) -> Located:
    """Where each pair's tokens stand in the two texts."""
    located: Located = {}
    for (side, index), pair in pairs.items():
        ia, ib = located.get(pair, (-1, -1))
        located[pair] = (index, ib) if side == 0 else (ia, index)
    return located


def _same_structure(a: Reading, b: Reading, pairs: dict[tuple[int, int], int]) -> bool:
    """Whether the paired tokens play the same roles, in the same order (each of
    ``structure``'s checks holds; the first that fails ends it)."""
    return all(structure(a, b, pairs))


def structure(a: Reading, b: Reading, pairs: dict[tuple[int, int], int]) -> Iterator[bool]:
    """The structure checks, one by one, in the order of ``STRUCTURE``.

    Roles: the multiset of (role word, token it governs) must be equal ("to" + "Y").
    Clauses: clauses may merge or split ("if I freeze it, how long..." / "how long ... if I
    freeze it") but not trade words: of the clauses holding one token, one holds all the
    other's tokens.
    Phrases: a word that follows the head of a governed phrase follows the same head.
    Order: two tokens of one clause and one phrase in both texts keep their order, unless
    one of them heads a phrase (a phrase may move: its role says what it is) or they
    belong to different items joined by "and" / "or" (whose order does not matter).
    Role order: the phrases governed by role words keep their order where it matters.
    """
    located = locate(pairs)
    yield _same_roles(a, b, pairs, located)
    yield _same_clauses(a, b, located)
    yield _same_heads(a, b, pairs, located)
    yield _same_order(a, b, located)
    yield _same_role_order(a, b, located)


STRUCTURE = ("roles", "clauses", "heads", "order", "role_order")
"""The names of ``structure``'s checks."""


def _same_roles(
    a: Reading, b: Reading, pairs: dict[tuple[int, int], int], located: Located
) -> bool:
    dropped = _dropped_settings(a, b, located)
    roles = [
        Counter(
            (p.role, pairs[(side, i)])
            for i, p in enumerate(reading.places)
            if p.role and pairs[(side, i)] not in dropped
        )
        for side, reading in enumerate((a, b))
    ]
    return roles[0] == roles[1]


def _same_clauses(a: Reading, b: Reading, located: Located) -> bool:
    """ "wenn ich hier arbeite, aber nicht dort wohne" / "... wohne, ... arbeite" differ."""
    members_a: dict[int, set[int]] = {}
    members_b: dict[int, set[int]] = {}
    for pair, (ia, ib) in located.items():
        members_a.setdefault(a.places[ia].clause, set()).add(pair)
        members_b.setdefault(b.places[ib].clause, set()).add(pair)
    for ia, ib in located.values():
        mates_a, mates_b = members_a[a.places[ia].clause], members_b[b.places[ib].clause]
        if not (mates_a <= mates_b or mates_b <= mates_a):
            return False
    return True


def _same_heads(
    a: Reading, b: Reading, pairs: dict[tuple[int, int], int], located: Located
) -> bool:
    """ "de la cuenta corriente" / "a la cuenta corriente" differ."""
    for ia, ib in located.values():
        ha, hb = a.places[ia].head, b.places[ib].head
        if (pairs[(0, ha)] if ha >= 0 else -1) != (pairs[(1, hb)] if hb >= 0 else -1):
            return False
    return True


def _same_order(a: Reading, b: Reading, located: Located) -> bool:
    bracket = _bracket_moves(a, b, located) if LEXICONS[a.language or "en"].verb_final else set()
    fixed = [
        (ia, ib)
        for pair, (ia, ib) in located.items()
        if not (
            a.places[ia].role
            or b.places[ib].role
            or a.tokens[ia].kind in ("and", "question")
            or pair in bracket
        )
    ]
    for x, (xa, xb) in enumerate(fixed):
        for ya, yb in fixed[x + 1 :]:
            pa, qa, pb, qb = a.places[xa], a.places[ya], b.places[xb], b.places[yb]
            comparable = pa.clause == qa.clause and pb.clause == qb.clause and pa.head == qa.head
            if not comparable or _other_items(pa, qa) or _other_items(pb, qb):
                continue
            if (xa < ya) != (xb < yb):
                return False
    return True


def _same_role_order(a: Reading, b: Reading, located: Located) -> bool:
    """Two phrases of one clause after the same role word keep their order: "what time is
    it in Tokyo when it is noon in London" / "... in London when ... in Tokyo", "cuillères
    à café dans une cuillère à soupe" / "... à soupe dans une ... à café" differ."""
    governed = [
        (ia, ib)
        for ia, ib in located.values()
        if a.places[ia].role and a.places[ia].role == b.places[ib].role
    ]
    for x, (xa, xb) in enumerate(governed):
        for ya, yb in governed[x + 1 :]:
            pa, qa, pb, qb = a.places[xa], a.places[ya], b.places[xb], b.places[yb]
            if pa.role != qa.role or pa.clause != qa.clause or pb.clause != qb.clause:
                continue
            if _other_items(pa, qa) or _other_items(pb, qb):
                continue
            if (xa < ya) != (xb < yb):
                return False
    return True


def _bracket_moves(a: Reading, b: Reading, by_pair: Located) -> set[int]:
    """Where the verb closes a subordinate clause and opens a main one (German: "wie man X
    berechnet" / "wie berechnet man X"): a word first in its clause in one text and last
    in the other may move, if it is written in lower case in both (German writes every
    noun with a capital: "ist ein Quadrat immer ein Rechteck" keeps its order)."""

    def ends(reading: Reading) -> tuple[set[int], set[int]]:
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for i, place in enumerate(reading.places):
            if reading.tokens[i].kind == "word" and not place.role and place.head < 0:
                first.setdefault(place.clause, i)
                last[place.clause] = i
        return set(first.values()), set(last.values())

    first_a, last_a = ends(a)
    first_b, last_b = ends(b)
    return {
        pair
        for pair, (ia, ib) in by_pair.items()
        if ((ia in first_a and ib in last_b) or (ia in last_a and ib in first_b))
        and not (a.tokens[ia].name or b.tokens[ib].name)
    }


def _dropped_settings(a: Reading, b: Reading, by_pair: Located) -> set[int]:
    """Pairs where a setting's role word is written in one text only ("on Ubuntu" /
    "ubuntu - ..."), and the other text has no such role at all (so that "Python in Excel"
    / "Excel in Python" is no dropped setting)."""
    settings = LEXICONS[a.language or "en"].settings
    roles_a = {p.role for p in a.places}
    roles_b = {p.role for p in b.places}
    dropped = set()
    for pair, (ia, ib) in by_pair.items():
        ra, rb = a.places[ia].role, b.places[ib].role
        if (ra and not rb and ra in settings and ra not in roles_b) or (
            rb and not ra and rb in settings and rb not in roles_a
        ):
            dropped.add(pair)
    return dropped


def _other_items(p: Place, q: Place) -> bool:
    return p.item is not None and q.item is not None and p.item[0] == q.item[0] and p.item != q.item
