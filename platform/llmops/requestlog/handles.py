"""User names and chat mentions made of a person's name: "@priya.nair", "User: dkowalski",
"Requested by: sunil.rao", "anotado por fdacosta".

A handle is a person's when one of its parts is a known first name or surname that is no
common word ("jen.morales", "b.roux"), or when it is an initial and a known surname
written together ("dkowalski", "frodriguez"). It counts where the text marks it as a
handle: after "@" (not an e-mail address), or after words that introduce a user name or
who did something ("user", "usuario", "utilisateur", "Benutzer", "reported by",
"anotado por"...). Teams, bots and roles ("@channel", "@support", "ci-bot") are none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops.requestlog import cues
from llmops.requestlog.personnames import FIRST_KNOWN, NAME_LIKE, common, known, wordiness
from llmops.requestlog.spans import Span

_HANDLE = r"[A-Za-z][A-Za-z0-9]*(?:[._-][A-Za-z0-9]+){0,3}"
_MENTION = re.compile(rf"(?<![\w@./-])@(?P<handle>{_HANDLE})(?![\w@-]|\.\w)")
_CUED = re.compile(
    r"(?i)\b(?:user(?:name)?|usuario|utilisateur|identifiant|benutzer(?:name)?|login|"
    r"author|autor|auteur|requested by|reported by|committed by|created by|assigned to|"
    r"raised by|opened by|anotado por|creado por|reportado por|solicitado por|"
    r"signalé par|créé par|demandé par|gemeldet von|erstellt von|angelegt von)"
    r"(?:\s*[:=]\s*|\s+(?:es\s+|is\s+|ist\s+)?)\(?(?P<handle>" + _HANDLE + r")(?![\w@-]|\.\w)"
)
NOT_PEOPLE = cues.words(
    "here channel everyone all team support admin root bot ci devops ops sre oncall on-call "
    "security infra platform backend frontend data finance sales marketing hr rh it "
    "helpdesk servicedesk system service svc deploy release jenkins github gitlab "
    # Code's annotations and doc tags: "@param", "@Getter", "@Override".
    "param return returns throws throw override deprecated since see link test before after "
    "getter setter data entity table column autowired component bean inject nullable "
    "nonnull value property staticmethod classmethod dataclass app route get post put patch"
)
_CODE_LINE = re.compile(r"^\s*(?:[*/#]|@[A-Z]\w*\s*(?:\(|$))|[{}]|;\s*$")
"""A line of code or of a doc comment: its mentions are annotations."""
_PARTS = re.compile(r"[._-]|\d+")


def handles(text: str) -> Iterator[Span]:
    for pattern in (_MENTION, _CUED):
        for m in pattern.finditer(text):
            handle = m.group("handle")
            if handle.casefold() in NOT_PEOPLE or (pattern is _CUED and not handle.islower()):
                continue  # a cued word in capitals is a name the other rules read
            if pattern is _MENTION and _CODE_LINE.search(_line(text, m.start())):
                continue
            if _a_persons(handle):
                yield Span(m.start("handle"), m.end("handle"), "PERSON")


def _line(text: str, at: int) -> str:
    start = text.rfind("\n", max(0, at - 500), at) + 1
    end = text.find("\n", at, at + 500)
    return text[start : end if end >= 0 else min(len(text), at + 500)]


def _a_persons(handle: str) -> bool:
    parts = [p for p in _PARTS.split(handle.casefold()) if p]
    if not parts or any(p in NOT_PEOPLE for p in parts):
        return False
    if any(len(p) >= 3 and _name(p) for p in parts):
        return True
    # An initial and a surname written together ("dkowalski", "frodriguez"): in lower
    # case, no word of the languages ("names", "param", "getter" are), the surname no
    # common word either.
    word = parts[0]
    return (
        len(parts) == 1
        and handle.islower()
        and len(word) >= 6
        and common(word) == 0.0
        and known(word[1:])[1] is not None
        and wordiness(word[1:]) <= NAME_LIKE
    )


def _name(part: str) -> bool:
    first, last = known(part)
    if first is None and last is None:
        return False
    return wordiness(part) <= NAME_LIKE and (
        last is not None or (first is not None and first <= FIRST_KNOWN)
    )
