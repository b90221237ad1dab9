"""PII redaction of request texts before anything is stored.

Recognizers find spans of five kinds: email addresses, phone numbers
(libphonenumber's matcher, which validates numbers per region), card numbers
(13 to 19 digits passing the Luhn check), IBANs (the ISO 13616 mod-97 check) and IP
addresses (v4 and v6, parsed by :mod:`ipaddress`). Each span is replaced by its
kind in angle brackets, ``<EMAIL_ADDRESS>``. Checksums and parsing keep ordinary
numbers (order ids, amounts, dates, times) out. Why not Presidio: see
docs/decisions/0008-request-log-redaction.md.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import phonenumbers


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    kind: str


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    spans: int
    """How many PII spans were replaced."""


class Redactor(Protocol):
    def redact(self, text: str) -> Redacted: ...


Recognizer = Callable[[str], Iterator[Span]]

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}\b"
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN")
"""Regions whose national formats are read (international ``+`` numbers always are)."""


def emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), "EMAIL_ADDRESS")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits):
            yield Span(m.start(), m.end(), "CREDIT_CARD")


def iban_valid(candidate: str) -> bool:
    code = candidate.replace(" ", "")
    if not 15 <= len(code) <= 34:
        return False
    rearranged = code[4:] + code[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def ibans(text: str) -> Iterator[Span]:
    for m in _IBAN.finditer(text):
        # The pattern may take a trailing word; the longest valid prefix is the IBAN.
        candidate = m.group()
        while len(candidate.replace(" ", "")) >= 15:
            if iban_valid(candidate):
                yield Span(m.start(), m.start() + len(candidate), "IBAN_CODE")
                break
            candidate = candidate[:-1].rstrip()


def ip_addresses(text: str) -> Iterator[Span]:
    for pattern in (_IPV4, _IPV6):
        for m in pattern.finditer(text):
            try:
                ipaddress.ip_address(m.group())
            except ValueError:
                continue
            yield Span(m.start(), m.end(), "IP_ADDRESS")


def phones(text: str, regions: Sequence[str] = PHONE_REGIONS) -> Iterator[Span]:
    for region in regions:
        for m in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            yield Span(m.start, m.end, "PHONE_NUMBER")


DEFAULT_RECOGNIZERS: tuple[Recognizer, ...] = (emails, ibans, cards, ip_addresses, phones)


class PiiRedactor:
    """Replaces what the recognizers find; where finds overlap the longest wins."""

    def __init__(self, recognizers: Sequence[Recognizer] = DEFAULT_RECOGNIZERS) -> None:
        self._recognizers = tuple(recognizers)

    def find(self, text: str) -> list[Span]:
        found = [span for recognize in self._recognizers for span in recognize(text)]
        return _without_overlaps(found)

    def redact(self, text: str) -> Redacted:
        if not text:
            return Redacted(text, 0)
        spans = self.find(text)
        out: list[str] = []
        last = 0
        for span in spans:
            out.append(text[last : span.start])
            out.append(f"<{span.kind}>")
            last = span.end
        out.append(text[last:])
        return Redacted("".join(out), len(spans))


def _without_overlaps(spans: list[Span]) -> list[Span]:
    """Spans in text order, none overlapping: the longer one wins."""
    kept: list[Span] = []
    for s in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
        if all(s.end <= k.start or s.start >= k.end for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: s.start)
