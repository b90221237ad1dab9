"""The checks themselves, pure functions over text: what a policy's span checks (personal
data, secrets) and deny rules find in a text, and the text with the masked finds replaced.
They run in worker threads (:mod:`.inputs`, :mod:`.outputs`): the recognizers of
personal data cost milliseconds per kilobyte."""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.guardrails.policy import Action, DenyRule, SpanCheck
from llmops.requestlog import redaction
from llmops.requestlog.identifiers import national_ids, phones
from llmops.requestlog.namereader import people
from llmops.requestlog.people import addresses, birth_dates
from llmops.requestlog.redaction import Recognizer

# Which recognizers find which kinds (a policy runs only those its kinds need), and about
# what each costs, in microseconds per character of text (measured on support messages).
_RECOGNIZERS: tuple[tuple[Recognizer, frozenset[str], float], ...] = (
    (
        redaction.credentials,
        frozenset({"API_KEY", "JWT", "PRIVATE_KEY", "SECRET", "PASSWORD"}),
        0.1,
    ),
    (redaction.emails, frozenset({"EMAIL_ADDRESS"}), 0.05),
    (redaction.ibans, frozenset({"IBAN_CODE"}), 0.05),
    (redaction.cards, frozenset({"CREDIT_CARD"}), 0.5),
    (redaction.ip_addresses, frozenset({"IP_ADDRESS"}), 0.1),
    (national_ids, frozenset({"NATIONAL_ID"}), 0.8),
    (phones, frozenset({"PHONE_NUMBER"}), 27.0),
    (birth_dates, frozenset({"DATE_OF_BIRTH"}), 0.6),
    (addresses, frozenset({"ADDRESS"}), 3.1),
    (people, frozenset({"PERSON"}), 34.0),
)
DENY_MICROS_PER_CHAR = 0.05
INLINE_MICROS = 200.0
"""Checks expected to take less than this run on the event loop: handing them to a worker
thread would cost more than running them."""


@dataclass(frozen=True, slots=True)
class Finding:
    policy: str
    """``pii``, ``secrets``, ``injection``, ``deny.<name>``, ``max_chars``..."""
    action: Action
    start: int = 0
    end: int = 0
    kind: str = ""
    """What replaces it when masked (``EMAIL_ADDRESS``, a deny rule's name...)."""


@dataclass(frozen=True, slots=True)
class _SpanPolicy:
    policy: str
    action: Action
    kinds: frozenset[str]


class TextChecks:
    """One direction (input or output) of a policy: its span checks and deny rules,
    compiled once."""

    def __init__(
        self,
        spans: Sequence[tuple[str, SpanCheck | None, frozenset[str]]],
        deny: Sequence[DenyRule],
    ) -> None:
        self._spans = [
            _SpanPolicy(name, check.action, frozenset(check.kinds) if check.kinds else all_kinds)
            for name, check, all_kinds in spans
            if check is not None
        ]
        wanted = frozenset().union(*(s.kinds for s in self._spans)) if self._spans else frozenset()
        used = [(recognize, cost) for recognize, kinds, cost in _RECOGNIZERS if kinds & wanted]
        self._recognizer = redaction.PiiRedactor([recognize for recognize, _ in used])
        self._deny: list[tuple[DenyRule, re.Pattern[str], tuple[str, ...] | None]] = [
            (rule, regex, openings(regex)) for rule in deny for regex in (rule.regex(),)
        ]
        self.micros_per_char = sum(c for _, c in used) + DENY_MICROS_PER_CHAR * len(self._deny)
        """About what the checks cost per character of text."""

    def cheap(self, chars: int) -> bool:
        """Whether checking ``chars`` characters costs less than a worker thread's hop."""
        return self.micros_per_char * chars < INLINE_MICROS

    @property
    def active(self) -> bool:
        return bool(self._spans or self._deny)

    def find(self, text: str) -> list[Finding]:
        """What the checks find in ``text``, in text order."""
        found: list[Finding] = []
        if self._spans and text:
            for span in self._recognizer.find(text):
                owner = next((s for s in self._spans if span.kind in s.kinds), None)
                if owner is not None:
                    found.append(
                        Finding(owner.policy, owner.action, span.start, span.end, span.kind)
                    )
        lowered = text.lower() if text.isascii() else None
        for rule, regex, starts in self._deny:
            if (
                starts is not None
                and lowered is not None
                and not any(start in lowered for start in starts)
            ):
                continue  # no match can start anywhere in this text
            for match in regex.finditer(text):
                if match.end() > match.start():
                    found.append(
                        Finding(
                            f"deny.{rule.name}",
                            rule.action,
                            match.start(),
                            match.end(),
                            rule.name.upper(),
                        )
                    )
        return sorted(found, key=lambda f: (f.start, -f.end))


_parser = importlib.import_module("re._parser")
_constants = importlib.import_module("re._constants")
"""The regex engine's own parser (Python 3.11 and later), for ``openings``."""


def openings(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-case ASCII strings one of which every match of a case-blind ``regex`` starts
    with (past zero-width assertions), or None when the pattern does not say (a class,
    a repeat or inline flags first). An ASCII text holding none of them cannot match,
    which a substring search finds many times faster than the regex engine."""
    try:
        found = _starts(_parser.parse(regex.pattern, regex.flags).data)
    except (re.error, TypeError, ValueError):  # an engine whose parse tree differs
        return None
    if not found or any(len(s) < 2 or not s.isascii() for s in found):
        return None
    return tuple(s.lower() for s in found)


def _starts(items: Any) -> list[str] | None:
    for index, (op, value) in enumerate(items):
        if op in (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT):
            continue
        if op is _constants.BRANCH:
            starts: list[str] = []
            for branch in value[1]:
                found = _starts(getattr(branch, "data", branch))
                if found is None:
                    return None
                starts += found
            return starts
        if op is _constants.SUBPATTERN:
            _, added, removed, inner = value
            return None if added or removed else _starts(getattr(inner, "data", inner))
        if op is _constants.LITERAL:
            run = [chr(value)]
            for next_op, next_value in items[index + 1 :]:
                if next_op is not _constants.LITERAL:
                    break
                run.append(chr(next_value))
            return ["".join(run)]
        return None
    return None


def masked(text: str, findings: Sequence[Finding]) -> str:
    """``text`` with each masked find replaced by ``<KIND>`` (where two overlap, the first
    and longer one)."""
    out: list[str] = []
    last = 0
    for f in findings:
        if f.action is not Action.MASK or f.start < last:
            continue
        out.append(text[last : f.start])
        out.append(f"<{f.kind}>")
        last = f.end
    out.append(text[last:])
    return "".join(out)
