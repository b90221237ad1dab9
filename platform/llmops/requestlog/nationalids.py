"""More countries' national identifiers, each checked by its own algorithm.

A number is one when its check digit holds and either its own written form says what it is
(the dots of a Swiss AHV number, the letters of a CURP) or the words just before name it
("Steuer-ID", "Aadhaar", "RUT"): an order number shaped like an identifier, with a check
digit that holds by chance, stays.

- Germany, Steuer-ID: 11 digits, no leading zero, one digit repeated in the first ten,
  ISO 7064 MOD 11,10 check digit.
- Austria, Sozialversicherungsnummer: a serial, a check digit (weights 3 7 9 5 8 4 2 1 6,
  mod 11) and the date of birth DDMMYY.
- Switzerland, AHV/AVS number: 756, nine digits and an EAN-13 check digit.
- Belgium, national register number: YY.MM.DD-SSS.CC, 97 less the rest mod 97 (with a
  leading 2 for those born from 2000).
- India, Aadhaar: 12 digits, not starting 0 or 1, Verhoeff check digit.
- Mexico, CURP: 18 characters with its check digit.
- Chile, RUT/RUN: mod 11 check digit (K for 10).
- Argentina and Peru, DNI; Colombia, cédula: digits where the text names them so.
- Canada, SIN / NAS: nine digits with a Luhn check, where the text names them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

_BEFORE = 60
"""Characters before a number searched for the words that name it."""


def _named(pattern: str) -> re.Pattern[str]:
    aside = r"(?:\s*\([^()\n]{0,40}\))?"  # "Steuer-ID (unverändert): ..."
    said = r"(?:\s+(?:is|ist|est|es|lautet|was|war|era|c'est|provided|given|est le|es el))?"
    return re.compile(rf"(?ai)(?<![^\W\d_])(?:{pattern}){aside}{said}\W{{0,12}}$")


_STEUER_WORDS = _named(
    r"steuer-?id|steuer-?identifikationsnummer|identifikationsnummer|idnr\.?|"
    r"steuerliche identifikationsnummer|tax id|tin"
)
_SVNR_WORDS = _named(
    r"svnr\.?|sv-?nr\.?|sv-nummer|sozialversicherungsnummer|versicherungsnummer|"
    r"sozialversicherungs-?nr\.?"
)
_NRN_WORDS = _named(
    r"registre national|numéro national|n° national|rijksregisternummer|rijksregister|nn|niss|"
    r"national register number"
)
_AADHAAR_WORDS = _named(r"aadhaar|aadhar|uidai|uid")
_RUT_WORDS = _named(r"rut|run|r\.u\.t\.?")
_DOCUMENT_WORDS = _named(
    r"dni|d\.n\.i\.?|documento|documento de identidad|cédula|cedula|c\.c\.?|cc|"
    r"cédula de ciudadanía|cedula de ciudadania"
)
_SIN_WORDS = _named(
    r"sin|s\.i\.n\.?|social insurance(?: number)?|nas|numéro d'assurance sociale|"
    r"assurance sociale"
)

_STEUER = re.compile(r"(?a)(?<![\d.-])([1-9]\d(?:[ ]?\d{3}){3})(?!\d|[.-]\d)")
_STEUER_PRINTED = re.compile(r"(?a)^\d{2} \d{3} \d{3} \d{3}$")
_SVNR = re.compile(r"(?a)(?<![\d.-])(\d{4}) ?(\d{2})(\d{2})(\d{2})(?!\d|[.-]\d)")
_AHV = re.compile(r"(?a)(?<![\d.])756\.\d{4}\.\d{4}\.\d{2}(?!\d|\.\d)")
_NRN = re.compile(r"(?a)(?<![\d.-])(\d{2})\.?(\d{2})\.?(\d{2})[- ]?(\d{3})\.?(\d{2})(?!\d|[.-]\d)")
_NRN_PRINTED = re.compile(r"(?a)^\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}$")
_AADHAAR = re.compile(r"(?a)(?<![\d-])([2-9]\d{3})([ -]?)(\d{4})\2(\d{4})(?![\d-])")
_CURP = re.compile(
    r"(?a)(?<![A-Z0-9])[A-Z][AEIOUX][A-Z]{2}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d(?![A-Z0-9])"
)
_RUT = re.compile(r"(?a)(?<![\d.])(\d{1,2}(?:\.\d{3}){2}|\d{7,8})-([\dkK])(?![\w])")
_DOCUMENT = re.compile(r"(?a)(?<![\d.])(\d{1,3}(?:\.\d{3}){1,3}|\d{6,10})(?!\w|[.-]\d)")
_SIN = re.compile(r"(?a)(?<![\d-])(\d{3})([ -]?)(\d{3})\2(\d{3})(?!\d|[.-]\d)")


def national_ids_elsewhere(text: str) -> Iterator[tuple[int, int]]:
    for find in _FINDERS:
        yield from find(text)


def _words_before(text: str, start: int, words: re.Pattern[str]) -> bool:
    return words.search(text[max(0, start - _BEFORE) : start]) is not None


def _steuer_ids(text: str) -> Iterator[tuple[int, int]]:
    for m in _STEUER.finditer(text):
        digits = m.group(1).replace(" ", "")
        printed = _STEUER_PRINTED.match(m.group(1)) is not None
        if _steuer_valid(digits) and (printed or _words_before(text, m.start(), _STEUER_WORDS)):
            yield m.span()


def _steuer_valid(digits: str) -> bool:
    counts = [digits[:10].count(d) for d in set(digits[:10])]
    if sorted(counts)[-1] not in (2, 3) or counts.count(2) + counts.count(3) != 1:
        return False
    product = 10
    for d in digits[:10]:
        total = (int(d) + product) % 10 or 10
        product = total * 2 % 11
    check = 11 - product
    return (0 if check == 10 else check) == int(digits[10])


def _svnrs(text: str) -> Iterator[tuple[int, int]]:
    for m in _SVNR.finditer(text):
        serial, day, month, year = m.groups()
        digits = serial + day + month + year
        weights = (3, 7, 9, 0, 5, 8, 4, 2, 1, 6)
        check = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        if (
            serial[0] != "0"
            and check == int(digits[3])
            and 1 <= int(day) <= 31
            and 1 <= int(month) <= 12
            and _words_before(text, m.start(), _SVNR_WORDS)
        ):
            yield m.span()


def _ahvs(text: str) -> Iterator[tuple[int, int]]:
    for m in _AHV.finditer(text):
        digits = m.group().replace(".", "")
        total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
        if (10 - total % 10) % 10 == int(digits[12]):
            yield m.span()


def _nrns(text: str) -> Iterator[tuple[int, int]]:
    for m in _NRN.finditer(text):
        yy, mm, dd, serial, key = m.groups()
        base = int(yy + mm + dd + serial)
        valid = int(key) in (97 - base % 97, 97 - (2_000_000_000 + base) % 97)
        printed = _NRN_PRINTED.match(m.group()) is not None
        if valid and int(mm) <= 12 and (printed or _words_before(text, m.start(), _NRN_WORDS)):
            yield m.span()


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def _verhoeff_valid(digits: str) -> bool:
    c = 0
    for i, d in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(d)]]
    return c == 0


def _aadhaars(text: str) -> Iterator[tuple[int, int]]:
    for m in _AADHAAR.finditer(text):
        digits = m.group(1) + m.group(3) + m.group(4)
        if _verhoeff_valid(digits) and _words_before(text, m.start(), _AADHAAR_WORDS):
            yield m.span()


_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"


def _curps(text: str) -> Iterator[tuple[int, int]]:
    for m in _CURP.finditer(text):
        code = m.group()
        total = sum(_CURP_ALPHABET.index(c) * (18 - i) for i, c in enumerate(code[:17]))
        if (10 - total % 10) % 10 == int(code[17]):
            yield m.span()


def _ruts(text: str) -> Iterator[tuple[int, int]]:
    for m in _RUT.finditer(text):
        body = m.group(1).replace(".", "")
        total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
        check = 11 - total % 11
        expected = {11: "0", 10: "K"}.get(check, str(check))
        dotted = "." in m.group(1)
        if m.group(2).upper() == expected and (
            dotted or _words_before(text, m.start(), _RUT_WORDS)
        ):
            yield m.span()


def _sins(text: str) -> Iterator[tuple[int, int]]:
    for m in _SIN.finditer(text):
        digits = m.group(1) + m.group(3) + m.group(4)
        total = 0
        for i, d in enumerate(reversed(digits)):
            n = int(d) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0 and digits[0] != "8" and _words_before(text, m.start(), _SIN_WORDS):
            yield m.span()


def _documents(text: str) -> Iterator[tuple[int, int]]:
    for m in _DOCUMENT.finditer(text):
        if _words_before(text, m.start(), _DOCUMENT_WORDS):
            yield m.span()


_FINDERS: tuple[Callable[[str], Iterator[tuple[int, int]]], ...] = (
    _steuer_ids,
    _svnrs,
    _ahvs,
    _nrns,
    _aadhaars,
    _curps,
    _ruts,
    _documents,
    _sins,
)
