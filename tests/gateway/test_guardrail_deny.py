"""Deny rules find exactly what their regular expressions find: the substring search that
skips texts no match can start in never hides a match, whatever the text's letters."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.guardrails.checks import TextChecks, openings
from gateway.guardrails.policy import DenyRule

LETTERS = "abiknrsABIKNRS \u0130\u212a\u017f\u00e9\u00df-"
"""ASCII letters in both cases, and letters that match ASCII ones when case is ignored
(dotted capital I, the Kelvin sign, the long s) or fold to several (sharp s)."""
WORDS = st.text(alphabet="abiknrs", min_size=2, max_size=5)


ALIKE = {"s": "sS\u017f", "k": "kK\u212a", "i": "iI\u0130"}
"""Letters that a case-blind match takes for the ASCII one: the long s, the Kelvin sign,
the dotted capital I."""


@st.composite
def patterns_and_texts(draw: st.DrawFn) -> tuple[list[str], str]:
    word, other = draw(WORDS), draw(WORDS)
    shapes = [
        word,
        rf"\b{word}\b",
        rf"{word}\s*{other}s?",
        rf"(?:{word}|{other})x?",
        rf"(?<!\w){word.upper()}(?!\w)",
        rf"[ab]{word}",
        rf"(?:{word})+",
    ]
    patterns = draw(st.lists(st.sampled_from(shapes), min_size=1, max_size=3))
    written = "".join(draw(st.sampled_from(ALIKE.get(c, c + c.upper()))) for c in word)
    before, after = draw(st.text(LETTERS, max_size=20)), draw(st.text(LETTERS, max_size=20))
    return patterns, before + written + " " + other + after


@settings(max_examples=500, deadline=None)
@given(case=patterns_and_texts())
def test_deny_finds_what_the_regex_finds(case: tuple[list[str], str]) -> None:
    patterns, text = case
    rule = DenyRule(name="rule", patterns=patterns)
    expected = [(m.start(), m.end()) for m in rule.regex().finditer(text) if m.end() > m.start()]
    found = [(f.start, f.end) for f in TextChecks([], [rule]).find(text)]
    assert sorted(found) == sorted(expected)


def test_openings_are_what_every_match_starts_with() -> None:
    rule = DenyRule(name="w", patterns=[r"bio\s*weapons?", r"nerve\s+agents?"], terms=["sarin"])
    assert openings(rule.regex()) == ("bio", "nerve", "sarin")
    assert openings(re.compile(r"[a-z]+foo", re.I)) is None  # a class first: no opening
    assert openings(re.compile(r"(?-i:Abc)", re.I)) is None  # inline flags: no opening
    assert openings(re.compile(r"\s*bio", re.I)) is None
    checks = TextChecks([], [rule])
    assert [f.kind for f in checks.find("How are NERVE  Agents made?")] == ["W"]
    assert checks.find("Ask the \u0130STANBUL office about bioweapon law") != []
