"""Scorers that need no model: rules on one answer, and references compared by text.

Each returns a score in [0, 1] for one answer, or ``None`` when the scorer does not
apply to the example (a ``contains`` scorer without values of its own, on a line
without ``expectations.contains``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache

from llmops.evaluation.suite import Contains, Example, JsonSchema, Length, Refusal, Regex
from llmops.requestlog.redaction import PiiRedactor

_WORD = re.compile(r"\w+")
_REFUSAL = re.compile(
    r"\b(?:i\s*(?:can(?:no|')t|can not|won't|will not|am not able|'m not able|am unable|'m unable"
    r"|must decline|have to decline|refuse)"
    r"|(?:sorry|apologi[sz]e),? but (?:i|that)"
    r"|as an ai\b"
    r"|je ne (?:peux|pourrai|suis pas en mesure)|je refuse|désolée?,? mais je"
    r"|no (?:puedo|me es posible)|lo siento,? pero no"
    r"|ich kann (?:dir |ihnen |dabei )?nicht|kann ich (?:dir |ihnen )?nicht|es tut mir leid,? aber"
    r"|non posso)",
    re.IGNORECASE,
)
REFUSAL_WINDOW = 240
"""Refusals open an answer: only its first characters are read."""


def contains(scorer: Contains, example: Example, answer: str) -> float | None:
    values = scorer.values
    if values is None:
        found = example.expectations.get(scorer.kind)
        values = [str(v) for v in found] if found else None
    if not values:
        return None
    haystack = answer if scorer.case_sensitive else answer.lower()
    hits = [(v if scorer.case_sensitive else v.lower()) in haystack for v in values]
    if scorer.kind == "contains":
        ok = all(hits) if scorer.mode == "all" else any(hits)
    else:
        ok = not any(hits) if scorer.mode == "all" else not all(hits)
    return float(ok)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def regex(scorer: Regex, example: Example, answer: str) -> float | None:
    pattern = scorer.pattern or example.expectations.get("regex")
    if not pattern:
        return None
    try:
        found = _compiled(pattern).search(answer) is not None
    except re.error:
        return None
    return float(found == scorer.must_match)


def json_schema(scorer: JsonSchema, _example: Example, answer: str) -> float | None:
    import jsonschema  # noqa: PLC0415 - only suites that ask for it

    text = answer.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        value = json.loads(text)
    except ValueError:
        return 0.0
    return float(jsonschema.Draft202012Validator(scorer.json_schema).is_valid(value))


def length(scorer: Length, _example: Example, answer: str) -> float | None:
    size = len(_WORD.findall(answer)) if scorer.unit == "words" else len(answer)
    return float(size >= scorer.min and (scorer.max is None or size <= scorer.max))


def refuses(answer: str) -> bool:
    return _REFUSAL.search(answer[:REFUSAL_WINDOW]) is not None


def refusal(scorer: Refusal, example: Example, answer: str) -> float | None:
    if scorer.expect == "per_line":
        expected = bool(example.expectations.get("refuse", False))
    else:
        expected = scorer.expect == "refuse"
    return float(refuses(answer) == expected)


@cache
def _redactor() -> PiiRedactor:
    return PiiRedactor()


def pii_free(_scorer: object, _example: Example, answer: str) -> float | None:
    return float(not _redactor().find(answer))


def normalized_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def exact_match(_scorer: object, example: Example, answer: str) -> float | None:
    if example.reference is None:
        return None
    return float(normalized_words(answer) == normalized_words(example.reference))


def rouge_l(_scorer: object, example: Example, answer: str) -> float | None:
    """ROUGE-L F1: the longest common subsequence of words, against the reference's."""
    if example.reference is None:
        return None
    return rouge_words(normalized_words(answer), normalized_words(example.reference))


def rouge_words(produced: list[str], wanted: list[str]) -> float:
    """ROUGE-L F1 of two word sequences."""
    if not produced or not wanted:
        return float(produced == wanted)
    common = _lcs(produced, wanted)
    if common == 0:
        return 0.0
    precision, recall = common / len(produced), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def _lcs(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def preference(_scorer: object, example: Example, answer: str) -> float | None:
    """1 when ``answer`` is nearer the chosen answer than the rejected one, 0 the other way."""
    if example.reference is None or example.rejected is None:
        return None
    words = normalized_words(answer)
    chosen = rouge_words(words, normalized_words(example.reference))
    rejected = rouge_words(words, normalized_words(example.rejected))
    return 1.0 if chosen > rejected else 0.0 if chosen < rejected else 0.5


RuleScorer = Callable[..., float | None]
RULES: dict[str, RuleScorer] = {
    "contains": contains,
    "not_contains": contains,
    "regex": regex,
    "json_schema": json_schema,
    "length": length,
    "refusal": refusal,
    "pii_free": pii_free,
    "exact_match": exact_match,
    "rouge_l": rouge_l,
    "preference": preference,
}
"""The scorers that read one answer at a time, by kind."""
