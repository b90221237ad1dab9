"""People's names, found without a language model.

A name is a run of capitalised words (with particles: "de la", "van der", "bin", and
initials: "Marcus T. Whitfield"), or lowercase words after an introduction ("hi its marco
rossi"), judged on what surrounds it (:mod:`llmops.requestlog.cues`) and on the first
names and surnames of 105 countries with how common each is as a word
(:mod:`llmops.requestlog.namelists`):

- after a title ("Mr", "Mme", "Sra.", "Herr"): a name, whatever it is;
- after an introduction, a greeting, a signature's "Thanks,", a relation ("my late
  father,"), a verb that names someone ("assigned to", "parler à", "hablé con") or a
  form's field ("Name:", "cc:"): a name when one of its words is a known name;
- on its own: a name when it reads as a known first name then surnames, none of them a
  common word; or a known first name alone on the line that ends a message, or opens a
  signature line ("Benoît Ravelojaona, DSI");
- next to a name in a list ("A, B et C"): a name when one of its words is known.

Brands named after people, places ("Saint-Denis"), months and weekdays, and words in
capitals ("ECONNREFUSED") are kept out unless a title or a field names them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from llmops.requestlog import cues
from llmops.requestlog.namelists import names
from llmops.requestlog.spans import Span
from llmops.requestlog.speakers import said_again, speaker_tags

FIRST_KNOWN = 2000
"""First names at most this rank (in some country) count as known."""
COMMON_FIRST = 500
"""First names this common stand alone before an unknown surname ("Jean-Baptiste
Ouellet")."""
_WORD = re.compile(r"[^\W\d_]+(?:[-'\u2019](?!s\b)[^\W\d_]+)*")
"""A word; a possessive's "'s" is not part of the name ("Raj's number")."""
_ELIDED = re.compile(r"^(?:[cdjlmnst]|qu)['\u2019]", re.IGNORECASE)
"""French elisions: "m'a", "l'agence", "qu'il" are no names."""
_LOWER_WORD = re.compile(r"(?<![\w'\u2019@./-])[^\W\d_]+(?:['\u2019-][^\W\d_]+)*(?![\w@/-])")


def common(word: str) -> float:
    """How common ``word`` is as a word of the four languages (Zipf scale; 0: rarer than
    once in a million words)."""
    table = names().common
    key = word.casefold()
    if "-" in key and key not in table:  # "Saint-Pierre" is words, "Pelletier-Oyelaran" not
        return min(table.get(part, 0.0) for part in key.split("-"))
    return table.get(key, 0.0)


def wordiness(word: str) -> float:
    """How much more common ``word`` is as a word than its rank as a name explains: a
    popular name is written often ("Emma", "Thomas": about 0), a word is written more
    than its rank as a name says ("Senior", "Paris", "Will": above 1). Unknown words:
    their commonness less 2."""
    first, last = known(word)
    ranks = [r for r in (first, last) if r is not None]
    expected = 4.8 - 0.5 * math.log10(min(ranks)) if ranks else 2.0
    return common(word) - expected


NAME_LIKE = 1.0
"""Wordiness up to which a word reads as a name."""


def known(word: str) -> tuple[int | None, int | None]:
    """Its best ranks as a first name and as a surname (a hyphenated one: by its first
    part as a first name, its last part as a surname; "O'Malley": as one word too)."""
    lexicon = names()
    key = word.casefold()
    if "'" in key or "\u2019" in key:
        joined = re.sub(r"['\u2019]", "", key)
        last = lexicon.last.get(joined) or lexicon.last.get(re.split(r"['\u2019]", key)[-1])
        return lexicon.first.get(joined), last
    parts = key.split("-") if "-" in key else [key]
    return lexicon.first.get(parts[0]), lexicon.last.get(parts[-1])


def _core(words: list[str]) -> list[str]:
    return [w for w in words if w.casefold() not in cues.PARTICLES and len(w) > 1]


def known_name(words: list[str]) -> bool:
    """One of the words is a known first name or surname, and the first is no very common
    word ("Is", "Will": a word before a name)."""
    core = _core(words)
    return (
        bool(core)
        and wordiness(core[0]) <= 3 * NAME_LIKE
        and any(
            (first is not None and first <= FIRST_KNOWN) or last is not None
            for first, last in map(known, core)
        )
    )


def _reads_as_full_name(words: list[str]) -> bool:
    """A known first name, then one to three surnames, none of them a common word."""
    core = _core(words)
    if not 2 <= len(core) <= 4:
        return False
    if len(core) == 2 and _surname_first(core):
        return True
    first, _ = known(core[0])
    if first is None or first > FIRST_KNOWN or wordiness(core[0]) > NAME_LIKE:
        return False  # "Is Prime", "Magasin Auchan", "Senior DevOps Engineer"
    rest = core[1:]
    if known(core[-1])[1] is not None:
        return all(wordiness(w) <= NAME_LIKE for w in rest) and (
            sum(wordiness(w) for w in core) <= 1.5 * NAME_LIKE  # "Copa del Rey"
        )
    # An unknown surname after a common first name, if it is no common word either, and
    # the first name is no abbreviation ("600 Mb de Digi").
    return first <= COMMON_FIRST and len(core[0]) > 2 and all(common(w) < 3.0 for w in rest)


def _surname_first(core: list[str]) -> bool:
    """ "Kristoffersen Ingrid", as lists and forms write: a surname that is no first name,
    then a first name, neither a word."""
    first_of_first, last = known(core[0])
    first = known(core[1])[0]
    return (
        last is not None
        and first_of_first is None
        and first is not None
        and first <= FIRST_KNOWN
        and all(common(w) < 4.0 for w in core)
    )


def _is_name_word(word: str) -> bool:
    return word[0].isupper() and (word[1:] != word[1:].upper() or len(word) <= 3 or word.isupper())


def _runs(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """Runs of capitalised words (particles and initials between them): (start, end,
    words)."""
    found = list(_WORD.finditer(text))
    i = 0
    while i < len(found):
        if not _is_name_word(found[i].group()):
            i += 1
            continue
        j = i
        k = i + 1
        while k < len(found):
            gap = text[found[k - 1].end() : found[k].start()]
            initial = len(found[k - 1].group()) == 1 and gap == ". "
            if gap not in {" ", "-"} and not initial:
                break
            w = found[k].group()
            if _is_name_word(w):
                j = k
            elif w.casefold() not in cues.PARTICLES:
                break
            k += 1
        yield found[i].start(), found[j].end(), [w.group() for w in found[i : j + 1]]
        i = j + 1


def _trim(text: str, run: list[str], start: int) -> tuple[list[str], int, bool, bool]:
    """The run without the greetings, titles and relations that open it ("Guten Tag Frau
    Yilmaz", "Mutter Hildegard Petersen"); whether a title, or another lead, was there."""
    leads = cues.TITLES | cues.GREETINGS | cues.RELATIONS | cues.FIELDS | cues.LEADS
    titled = led = False
    cut = max((i for i, w in enumerate(run) if w.casefold().rstrip(".") in leads), default=-1)
    for w in run[: cut + 1]:
        if w.casefold().rstrip(".") in cues.TITLES:
            titled = True
        else:
            led = True
        start = text.index(w, start) + len(w)
    words = run[cut + 1 :]
    if words:
        start = text.index(words[0], start)
    before = text[max(0, start - 60) : start]
    titled = titled or bool(cues.TITLE_BEFORE.search(before[-20:]))
    return words, start, titled, led


def _cued(text: str, start: int) -> int:
    """2: introduced as a name ("my name is", "Dear", "Thanks,", "my late father,",
    "Name:"); 1: mentioned as someone ("spoke to", "assigned to"); 0: neither."""
    before = text[max(0, start - 60) : start]
    if (
        cues.INTRODUCTION.search(before)
        or cues.RELATION_BEFORE.search(before)
        or cues.FIELD_BEFORE.search(before)
    ):
        return 2
    return 1 if cues.MENTION.search(before) else 0


def _kept_out(
    text: str,
    *,
    start: int,
    end: int,
    words: list[str],
    titled: bool,
    brands: list[tuple[int, int, int]],
) -> bool:
    """A brand, a place, a date's word, or capitals that no title or field vouches for."""
    if any(w.casefold() in cues.CALENDAR for w in words):
        return True
    if not titled and words[0].casefold().split("-")[0] in cues.PLACE_OPENERS:
        return True
    before = text[max(0, start - 60) : start]
    if not titled and (
        cues.PLACE_BEFORE.search(before)
        or (_core(words)[-1:] and _core(words)[-1].casefold() in cues.ORGANISATIONS)
    ):
        return True
    if not titled and (
        _joined_by_ampersand(text, start, end)
        or _product(words)
        or _acronym_opens(words)
        or _JOB_AD.match(text[end : end + 12])
        or _ANSWERING.match(text[end : end + 24])
        or _in_a_code(text, start, end)
        or _place_compound(words)
        or (len(words) == 1 and words[0].isupper() and len(words[0]) <= 3)
    ):
        return True  # "Dupont & Fils", "AirPods", "SAV Maisons du Monde"
    vouched = titled or cues.FIELD_BEFORE.search(before) or cues.NAMED.search(before)
    if any(w.isupper() and len(w) > 1 for w in words) and not vouched:
        return True
    # "Philips Hue", "Ford Focus"; but "Marco Ferrari", "Mme Boulanger"
    return any(
        b_start < end and b_end > start and (size > 1 or (b_start <= start and not titled))
        for b_start, b_end, size in brands
    )


_ANSWERING = re.compile(
    r"(?i),\s*(?:bonjour|bonsoir|hello|hi|good (?:morning|afternoon|evening)|buenos días|"
    r"buenas tardes|buenas|guten tag|grüß gott|grüezi)\b"
)
"""A firm answering the phone ("Desjardins, bonjour"), not a person."""
_PLACE_PARTS = cues.words(
    "sur sous lès les en am an ob bei upon on schule universität institut straße strasse "
    "platz allee gymnasium klinik klinikum haus halle park stadion"
)


def _in_a_code(text: str, start: int, end: int) -> bool:
    """ "AU-2210457-03": letters of a reference."""
    return bool(re.match(r"-\d", text[end : end + 2])) or bool(
        re.search(r"\d-$", text[max(0, start - 2) : start])
    )


def _place_compound(words: list[str]) -> bool:
    """ "Han-sur-Lesse", "Janusz-Korczak-Schule": a place joined by hyphens."""
    return any(
        "-" in w and any(p.casefold() in _PLACE_PARTS for p in w.split("-")[1:]) for w in words
    )


_JOB_AD = re.compile(r"\s*\((?:m/w/d|w/m/d|m/f/d|d/m/w|h/f|f/h|m/f|f/m)\)", re.IGNORECASE)
"""A job advertised ("Koch (m/w/d)", "Comptable (H/F)"), not a person."""
_AMPERSAND_AFTER = re.compile(r"^\s*&\s*([A-ZÀ-Ý][\w'\u2019-]*)")
_AMPERSAND_BEFORE = re.compile(r"([A-ZÀ-Ý][\w'\u2019-]*)\s*&\s*$")
_INNER_CAPITAL = re.compile(
    r"^(?!(?:Mc|Mac|O'|D'|De|Di|Da|Du|La|Le|Van|Von)[A-ZÀ-Ý])\w+[a-zà-ÿ][A-ZÀ-Ý]"
)


def _joined_by_ampersand(text: str, start: int, end: int) -> bool:
    """ "Dupont & Fils", "Smith & Sons", "Procter & Gamble": a firm's name; but "Mariana &
    Thiago Carvalho" are two people (a first name across the "&")."""
    joined = _AMPERSAND_AFTER.match(text[end : end + 40]) or _AMPERSAND_BEFORE.search(
        text[max(0, start - 40) : start]
    )
    if joined is None:
        return False
    first = known(joined.group(1))[0]
    return first is None or first > FIRST_KNOWN or wordiness(joined.group(1)) > NAME_LIKE


def _product(words: list[str]) -> bool:
    """A word with a capital inside ("AirPods", "PlayStation", "YouTube") names a product,
    unless the capital follows a surname's prefix ("McDonald", "DiCaprio", "LaToya")."""
    return any(_INNER_CAPITAL.match(w) for w in words)


def _acronym_opens(words: list[str]) -> bool:
    """An acronym, then words that are not in capitals: an organisation's name, unless the
    acronym is a surname written as forms write it ("DUPONT Jean")."""
    head = words[0]
    return (
        len(words) > 1
        and len(head) > 1
        and head.isupper()
        and not any(w.isupper() for w in words[1:])
        and not (known(head)[1] is not None and known(words[1])[0] is not None)
    )


_WINDOW = 200
"""Characters read before a candidate for the marks that end a sentence or a line."""
_BLANK_TAIL = re.compile(r"[ .!)\n]*\Z")
"""Nothing but spaces and closing marks up to the end of the message."""


def _before(text: str, start: int, blanks: str | None = None) -> str:
    """The text before ``start`` without its trailing blanks, read in a window (a long
    message is not copied for every candidate)."""
    head = text[max(0, start - _WINDOW) : start].rstrip(blanks)
    if head or start <= _WINDOW:
        return head
    return text[:start].rstrip(blanks)  # a long blank run: rare


def _sentence_start(text: str, start: int) -> bool:
    before = _before(text, start)
    return not before or before[-1] in '.!?:\n¡¿"«(' or text[start - 1 : start] == "\n"


def _signs(text: str, start: int, end: int, words: list[str]) -> bool:
    """A known first name that ends the message on its own (after a sentence, a comma, a
    dash), or opens a line that it makes up, or that a job title ends ("…, DSI")."""
    core = _core(words)
    first = known(core[0])[0] if core else None
    if first is None or first > FIRST_KNOWN or wordiness(core[0]) > NAME_LIKE:
        return False
    line_after = text[end : end + _WINDOW].split("\n", 1)[0]
    last_line = text.find("\n", end) < 0
    before = _before(text, start, " \t")
    opens_line = not before or before.endswith("\n")
    titled_line = re.match(r"^,\s*[A-ZÀ-Ý][^?]{0,40}$", line_after)  # "…, DSI", "…, CTO"
    if opens_line and (not line_after.strip(" .!)") or titled_line):
        return True
    if re.search(r"(?:^|[.!?\s])[-\u2014\u2013]\s*$", before) and (
        not line_after.strip(" .!)") or line_after.startswith(",")
    ):
        return True  # "— Malik, équipe Plateforme"
    return (
        last_line
        and not line_after.strip(" .!)")
        and (not before or before[-1] in ".!?:,;(\n—\u2013-")
    )


_INTRODUCED_AFTER = re.compile(
    r"^,?\s+(?:here|speaking|ici|aquí|al habla|hier|from (?:your|the|our)|"
    r"(?:from|in|de la|du|de|del|aus der|von der|vom) (?:billing|sales|support|accounts?|"
    r"accounting|hr|it|finance|legal|ops|payroll|compta|comptabilité|rh|facturation|ventas|"
    r"soporte|contabilidad|vertrieb|buchhaltung|personalabteilung)|"
    r"\((?:le|la|l'|the|el|der|die|our|notre|nuestr[oa]|unser\w*) )\b",
    re.IGNORECASE,
)
"""A name the words after introduce: "Tan Hui Ling here", "Priya from your team"."""


def _dash_signed(text: str, start: int, end: int) -> bool:
    """After a dash that ends a sentence, at the end of the message: "... - Tallulah
    Rhodes"."""
    before = _before(text, start, " ")
    return bool(re.search(r"(?:^|[.!?\s])[-\u2014\u2013]$", before)) and bool(
        _BLANK_TAIL.match(text, end)
    )


def _lone_name(word: str) -> bool:
    """A very common first name, no word of the four languages ("I spoke to Priya")."""
    first, _ = known(word)
    return first is not None and first <= 300 and common(word) < 2.8


def _rare(words: list[str]) -> bool:
    """No word of the run is a word of the four languages, nor a common one as a name."""
    core = _core(words)
    return bool(core) and all(
        common(w) < RARE or (known(w) != (None, None) and wordiness(w) <= NAME_LIKE) for w in core
    )


RARE = 3.0
"""Commonness under which a word is no word of the four languages (once in a million)."""
SAID_AGAIN = 4.2
"""Commonness under which a found name's word is a name wherever it is written again
("Grégoire", "Lambert"); commoner words stay words elsewhere ("Brown rice", "Mark the
ticket", "Pat the dog")."""


@dataclass(slots=True)
class Run:
    """A run of capitalised words and the rules' judgement of it."""

    opening: int
    start: int
    end: int
    words: list[str]
    is_name: bool


def person_names(text: str) -> Iterator[Span]:
    spans = [Span(r.start, r.end, "PERSON") for r in _capitalised_runs(text) if r.is_name]
    spans += _lowercase_names(text)
    spans += speaker_tags(text, _first_known, _name_like)
    yield from spans
    yield from said_again(text, spans, _name_like, lambda w: common(w) < SAID_AGAIN)


def _capitalised_runs(text: str) -> list[Run]:
    """The runs of capitalised words the rules do not keep out, judged."""
    found: list[Run] = []
    brands = [(b.start(), b.end(), len(b.group().split())) for b in cues.BRAND.finditer(text)]
    for opening, run_end, run in _runs(text):
        words, start, titled, led = _trim(text, run, opening)
        words, start = _past_other_words(text, words, start)
        words, end = _without_place(text, words, start, run_end)
        if not words:
            continue
        if _kept_out(text, start=start, end=end, words=words, titled=titled, brands=brands):
            continue
        introduced_after = _INTRODUCED_AFTER.match(text[end : end + 20]) is not None
        cued = (
            2 if led or introduced_after or _dash_signed(text, start, end) else _cued(text, start)
        )
        last = found[-1] if found else None
        between = text[last.end : opening] if last is not None and last.is_name else None
        after_a_name = between == ", "
        # "Best,\nChen Jianguo\nPearl River Textiles": the line under a signature's name
        # is its firm or its title ("…, Gérant" likewise after a comma).
        under_a_name = between == "\n"
        is_name = (
            titled
            or (bool(cued) and known_name(words))
            or (cued == 2 and _rare(words))
            or _reads_as_full_name(words)
            or (_signs(text, start, end, words) and not after_a_name and not under_a_name)
            or (len(words) == 1 and not _sentence_start(text, start) and _lone_name(words[0]))
        )
        found.append(Run(opening, start, end, words, is_name))
    # A run between names of a list is one too, if it reads as a name on its own.
    for _ in range(2):
        for i, item in enumerate(found):
            core = _core(item.words)
            first = known(core[0])[0] if core else None
            single_first = len(core) == 1 and first is not None and first <= FIRST_KNOWN
            if item.is_name or not _rare(item.words) or not (single_first or len(core) > 1):
                continue
            neighbours = [found[k] for k in (i - 1, i + 1) if 0 <= k < len(found)]
            joiners = [
                text[min(item.end, n.end) : max(item.opening, n.opening)]
                for n in neighbours
                if n.is_name
            ]
            listed = [j for j in joiners if cues.LIST_JOINER.match(j)]
            # One word after a name and a comma is as often a title ("…, Gérant").
            if listed and (len(core) > 1 or any(j.strip() not in {",", ""} for j in listed)):
                item.is_name = True
    return found


def _first_known(word: str) -> bool:
    first = known(word)[0]
    return first is not None and first <= FIRST_KNOWN and wordiness(word) <= 2 * NAME_LIKE


def _name_like(word: str) -> bool:
    return (known(word) != (None, None) and wordiness(word) <= NAME_LIKE) or common(word) < RARE


PLACE_LIKE = 2.5 * NAME_LIKE
"""Wordiness past which a word after "de" / "von" is a place's ("de Montréal"), not part
of a surname ("de Souza", "de la Fuente")."""


def _without_place(text: str, words: list[str], start: int, end: int) -> tuple[list[str], int]:
    """A name that says where its bearer is from ("Geneviève Tremblay de Montréal",
    "Martina Gómez de Buenos Aires") ends before the place: a particle after a first name
    and a surname, followed by words that are no surnames or read as words."""
    for i, w in enumerate(words):
        if i < 2 or w.casefold() not in cues.PARTICLES:
            continue
        tail = _core(words[i + 1 :])
        if len(_core(words[:i])) >= 2 and any(
            known(t)[1] is None and wordiness(t) > PLACE_LIKE for t in tail
        ):
            kept = words[:i]
            cut = start
            for k in kept:
                cut = text.index(k, cut) + len(k)
            return kept, cut
        break
    return words, end


def _past_other_words(text: str, words: list[str], start: int) -> tuple[list[str], int]:
    """Past the words that open a run and are no names ("Demandez Jean-Baptiste
    Ouellet"), when a known first name follows them."""
    for i, w in enumerate(words[:-1]):
        first = known(w)[0]
        if first is not None and first <= FIRST_KNOWN and wordiness(w) <= NAME_LIKE:
            if i:
                start = text.index(w, start)
            return words[i:], start
        if common(w) < RARE or wordiness(w) <= NAME_LIKE:
            break  # a rare or name-like word: the run is what it is
    return words, start


_LOWER_INTRO = re.compile(
    r"(?i)(?<!\w)(?:my name is|name is|name|name on \w+(?: is)?|i am|i'm|im|this is|it's|its|"
    r"c est|cé|jsuis|hi|hey|hello|salut|coucou|slt|bonjour|bjr|hola|buenas|hallo|moin|"
    r"servus|jo|yo|"
    r"its me(?: again)?|it's me(?: again)?|c moi|c'est moi|ici|thanks|"
    r"thank you|thx|ty|cheers|regards|je m'appelle|je m\u2019appelle|je suis|c'est|cest|"
    r"moi c'est|merci|bisous|me llamo|soy|gracias|ich bin|bin die|bin der|ich heiße|"
    r"mein name ist|hier ist|danke|gruß|lg|vg)[\s,:;!.-]*$|(?<!\w)(?:me|moi|yo|ich),\s*$"
)


def _lowercase_names(text: str) -> Iterator[Span]:
    """ "hi its marco rossi", "thx rob", "mi mamá, hebe scarpatti", "rahul and fatima
    bello": known first names (and the surnames after them) in lowercase after an
    introduction, a thanks, a relation or another lowercase name, or alone at the end."""
    found = [
        m
        for m in _LOWER_WORD.finditer(text)
        if m.group()[0].islower() and not _ELIDED.match(m.group())
    ]
    previous_end = -1
    i = 0
    while i < len(found):
        m = found[i]
        first, _ = known(m.group())
        before = text[max(0, m.start() - 30) : m.start()]
        strong = cues.STRONG_LOWERCASE.search(before) is not None
        nxt = found[i + 1].group() if i + 1 < len(found) else ""
        surname = known(nxt)[1] is not None and wordiness(nxt) <= NAME_LIKE
        ceiling = 2 * NAME_LIKE if strong or surname else NAME_LIKE
        at_end = i == len(found) - 1 and bool(_BLANK_TAIL.match(text, m.end()))
        signed = at_end and text[: m.start()].rstrip()[-1:] in {".", "!", "?", "-", "—", ","}
        listed = (
            0 <= m.start() - previous_end <= 12  # "X, Y", "X et Y": joiners are short
            and cues.LIST_JOINER.match(text[previous_end : m.start()])
        )
        cued = (
            strong
            or _LOWER_INTRO.search(before)
            or cues.RELATION_BEFORE.search(before)
            or signed
            or listed
        )
        rare_after_strong = strong and common(m.group()) < RARE and len(m.group()) > 2
        name_like = first is not None and first <= FIRST_KNOWN and wordiness(m.group()) <= ceiling
        surname_after_title = strong and known(m.group())[1] is not None
        if not cued or not (name_like or rare_after_strong or surname_after_title):
            i += 1
            continue
        end = m.end()
        k = i + 1
        while k < len(found) and k <= i + 4 and text[found[k - 1].end() : found[k].start()] == " ":
            w = found[k].group()
            if w in cues.PARTICLES - {"y", "e", "i"} and k + 1 < len(found):
                k += 1
                continue
            if (known(w) == (None, None) and not (strong and common(w) < RARE)) or wordiness(
                w
            ) > ceiling:
                break
            end = found[k].end()
            k += 1
        yield Span(m.start(), end, "PERSON")
        previous_end = end
        i = k
