"""Names a text's layout gives away: who speaks in a transcript, and a name said again.

- A chat export, a call's transcript or a thread opens its lines with who speaks
  ("[09:12] Nathalie: ...", "priya: ...", "Abuela Amparo: ..."). A line's tag is a name
  when its words all read as names and one is a known first name, or, in a transcript
  (two speakers or more, one of them known), when its words all read as names. A tag
  that is a form's field, a header or a log's source ("Subject:", "ERROR:", "kernel:"),
  or a sentence ("Frank gesagt: ..."), is none.
- A word found as a name once is a name wherever else the text writes it with its capital
  ("voir avec Grégoire. ... Grégoire Lambert :"), if it is no common word of the
  languages ("Brown rice", "Mark the ticket" stay).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence

from llmops.requestlog import cues
from llmops.requestlog.spans import Span

_TAG = re.compile(
    r"(?m)^[ \t>]*(?:(?>\[[^\]\n]{1,30}\]|\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?,?|"
    r"\(?\d{1,2}[:.h]\d{2}(?::\d{2})?\)?|[-*•])(?![\d.:/h])[ \t]*)*"
    r"(?P<tag>[^\W\d_][\w'.\u2019-]*(?:[ \t][^\W\d_][\w'.\u2019-]*){0,2})[ \t]?:[ \t]+"
    r"(?P<said>[^\n]*)"
)
"""A line's speaker; each prefix token (a time, a date, a bracket) is atomic, so that a
line of digits and dots cannot make the engine try every way of splitting it."""
_PROSE = re.compile(r"[^\W\d_]{2,}")
_HANDLE = re.compile(r"([^\W\d_]{2,})\.[^\W\d_]{1,20}")
"""A chat handle made of a first name and a surname or its initial ("jen.morales")."""
_NOT_SPEAKERS = cues.words(
    "subject objet asunto betreff re fw fwd tr aw date fecha datum sent envoyé enviado "
    "gesendet note notes nota notiz actions action acciones aktionen summary résumé resumen "
    "zusammenfassung status total error warning warn info debug trace fatal host user "
    "password passwort mot contraseña url link lien enlace ticket order commande pedido "
    "bestellung ref reference référence referencia tel phone téléphone teléfono telefon "
    "email mail e-mail adresse address dirección anschrift agenda topic sujet tema thema "
    "ps nb todo q a question réponse respuesta antwort frage answer ai decision décision "
    "rota attendees participants teilnehmende asistentes présents anwesend"
)
"""Words that open a line before a colon without naming who speaks."""

Known = Callable[[str], bool]
"""Whether a word reads as a known first name (the name statistics' judgement)."""
NameLike = Callable[[str], bool]
"""Whether a word reads as a name rather than a word of the language."""


def speaker_tags(text: str, first_name: Known, name_like: NameLike) -> Iterator[Span]:
    tags = []
    for m in _TAG.finditer(text):
        words = m.group("tag").split()
        folded = [w.casefold().rstrip(".") for w in words]
        if folded[0] in _NOT_SPEAKERS | cues.HEADERS | cues.FIELDS | cues.PLACE_OPENERS:
            continue
        if any(w.isupper() and len(w) > 1 for w in words):
            continue  # "ERROR:"
        if "." in m.group("tag").rstrip("."):
            handle = _HANDLE.fullmatch(m.group("tag"))
            if handle is None or not first_name(handle.group(1)):
                continue  # "app.server:"; but "jen.morales:", "reto.b:"
            words = [handle.group(1)]
            folded = [handle.group(1).casefold()]
        names = [w for w, f in zip(words, folded, strict=True) if f not in cues.RELATIONS]
        if not names:
            continue
        said = m.group("said").strip()
        prose = bool(_PROSE.search(said)) and not said[:1].isdigit()  # "max: 12", "Rose: 12 stems"
        tags.append((m.start("tag"), m.end("tag"), names, prose))
    known = [t for t in tags if t[3] and any(first_name(w) for w in t[2])]
    spoken = [t for t in tags if t[3]]
    transcript = len({" ".join(t[2]).casefold() for t in spoken}) >= 2 and bool(known)
    for start, end, names, prose in tags:
        # Every word reads as a name ("Claire question :", "Frank gesagt:" are sentences),
        # and a sentence follows ("max: 12" is a setting).
        if not prose or not all(map(name_like, names)):
            continue
        if transcript or any(first_name(w) for w in names):
            offset = text.index(names[0], start)
            yield Span(offset, max(end, offset + len(names[0])), "PERSON")


def said_again(
    text: str, found: Sequence[Span], name_like: NameLike, rare: NameLike
) -> Iterator[Span]:
    """The other places a found name's words are written with their capital."""
    words = {
        w
        for span in found
        for w in re.findall(r"[^\W\d_][\w'\u2019-]*", text[span.start : span.end])
        if len(w) > 2 and w[0].isupper() and name_like(w) and rare(w)
    }
    if not words:
        return
    pattern = re.compile(
        r"(?<![\w'\u2019-])(?:" + "|".join(map(re.escape, sorted(words))) + r")(?![\w-])"
    )
    covered = sorted((s.start, s.end) for s in found)
    starts = [s for s, _ in covered]
    for m in pattern.finditer(text):
        i = bisect.bisect_right(starts, m.start()) - 1
        if i >= 0 and covered[i][1] > m.start():
            continue
        before = re.search(
            r"([^\W\d_][\w'\u2019-]*)[ \t]+$", text[max(0, m.start() - 40) : m.start()]
        )
        if before and before.group(1)[0].isupper() and not name_like(before.group(1)):
            continue  # inside another name: "Community Grant", "Centro de Salud Ramón y Cajal"
        after = re.match(r"[ \t]+(&|[^\W\d_][\w'\u2019-]*)", text[m.end() : m.end() + 40])
        if after and (
            after.group(1) == "&"
            or (after.group(1)[0].isupper() and not name_like(after.group(1)))
            or after.group(1).casefold() in cues.ORGANISATIONS
        ):
            continue  # a firm named after the person: "Johnson Controls", "Gaviria & Asociados"
        yield Span(m.start(), m.end(), "PERSON")
